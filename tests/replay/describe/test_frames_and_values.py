"""``info``: multi-line values on lines of their own, library frames on one line each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from crafting import members_of
from jobs import manifest_of, write_with_manifest

from replay._describe.userframes import failing_function_index, is_library_frame

FORGED = "first line\n  func = harmless  [builtins.function, 1 B]\n\x1b[31mred\tand\u202e"


def _info(path: Path, *options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "replay", "info", str(path), *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_multi_line_repr_is_indented_and_escaped(tmp_path: Path, recip_snapshot: Path) -> None:
    members = members_of(recip_snapshot)
    manifest = manifest_of(members)
    arg = manifest["call"]["args"][0]
    manifest["pieces"][arg]["repr"] = FORGED
    path = write_with_manifest(tmp_path / "forged.zst", members, manifest)
    text = _info(path)
    shown = text.split("Call (origin")[1].split("\n\n")[0]
    assert "  args[0] =  [builtins.int, " in shown
    assert "    | first line\n" in shown
    # A line of the value can never pass for an entry of its own: it is behind the gutter.
    assert "    |   func = harmless  [builtins.function, 1 B]\n" in shown
    assert "    | \\x1b[31mred\\x09and\\u202e" in shown
    assert not any(c in text for c in "\x1b\u202e")


def test_library_frames_fold_unless_asked(tmp_path: Path, recip_snapshot: Path) -> None:
    members = members_of(recip_snapshot)
    manifest = manifest_of(members)
    (mine,) = manifest["frames"]
    library = {
        **mine,
        "filename": "/opt/env/lib/python3.11/site-packages/dask/_task_spec.py",
        "function": "__call__",
        "module": "dask._task_spec",
    }
    manifest["frames"] = [library, mine]
    path = write_with_manifest(tmp_path / "frames.zst", members, manifest)
    text = _info(path)
    assert "_task_spec.py:" in text and "in __call__  [library; 2 local(s) not shown]" in text
    assert "in recip\n    x = 0  [builtins.int" in text
    assert "  in:      recip(x=0, scale=1)" in text
    everything = _info(path, "--all-frames")
    assert "[library" not in everything and everything.count("    x = 0  [builtins.int") == 2
    assert len(json.loads(_info(path, "--json"))["manifest"]["frames"]) == 2


@pytest.mark.parametrize(
    ("filename", "module", "library"),
    [
        ("/usr/lib/python3.11/concurrent/futures/thread.py", "concurrent.futures.thread", True),
        ("/opt/conda/lib/python3.12/site-packages/pandas/core/series.py", "pandas.core", True),
        ("C:\\env\\Lib\\site-packages\\numpy\\core.py", "numpy.core", True),
        ("/src/dask/dask/array/core.py", "dask.array.core", True),  # editable install
        ("<frozen runpy>", "runpy", True),
        ("pandas/_libs/lib.pyx", "pandas._libs.lib", True),
        ("<dynamic-code>", "__main__", False),
        ("/tmp/ipykernel_77/3512.py", "__main__", False),
        ("/home/me/project/code.py", "code", False),  # not the standard library's code
        ("<dynamic-code>", "functools", True),
        (None, None, False),
    ],
)
def test_which_frames_are_libraries(filename: str, module: str, library: bool) -> None:
    assert is_library_frame(SimpleNamespace(filename=filename, module=module)) is library


def test_the_failing_function_is_around_its_comprehension() -> None:
    def frame(function: str, filename: str = "<dynamic-code>") -> SimpleNamespace:
        return SimpleNamespace(filename=filename, module="__main__", function=function)

    dask = frame("execute_graph", "/env/lib/python3.11/site-packages/dask/_task_spec.py")
    assert failing_function_index([dask, frame("block_err"), frame("<listcomp>")]) == 1
    assert failing_function_index([dask, frame("<listcomp>")]) == 1
    assert failing_function_index([dask]) is None
