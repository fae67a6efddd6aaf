"""A module that changed between the capture and the replay: said, and never shown wrong.

The worker imported one version of ``seedmod``; the replaying machine imports
another, at the same path (the file was edited since) or at another one.  The
re-run runs this machine's code and warns, naming the module, both files and
the first differing line; ``--frames`` shows the captured source, the arrow on
the line that raised there, never on the local file's line of the same number.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CAPTURED = "def recip(x):\n    return 1 / x\n"
CHANGED = """\
VERSION = 2
LIMIT = 10  # line 2, where the captured raise was


def recip(x):
    if x > LIMIT:
        return 0
    return 1 / x
"""

MAKE_SNAPSHOT = """\
import sys, snapshot, seedmod
builder = snapshot.SnapshotBuilder()
try:
    seedmod.recip(0)
except ZeroDivisionError as exc:
    builder.capture_exception(exc, skip_frames=1)
builder.set_call(seedmod.recip, (0,))
builder.manifest["task"] = {"key": "recip-1"}
builder.write(sys.argv[1])
"""


@pytest.fixture
def captured(tmp_path: Path) -> dict[str, Path]:
    site = tmp_path / "worker_site"
    site.mkdir()
    (site / "seedmod.py").write_text(CAPTURED)
    path = tmp_path / "recip.tar.zst"
    subprocess.run(
        [sys.executable, "-c", MAKE_SNAPSHOT, str(path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return {"snapshot": path, "site": site, "module": site / "seedmod.py", "elsewhere": elsewhere}


def run(cli: Callable[..., Any], captured: dict[str, Path], site: Path, *args: str) -> Any:
    return cli(
        [str(captured["snapshot"]), *args],
        cwd=captured["elsewhere"],
        stdin="ll\nwhere\np x\nq\n",
        env={"PYTHONPATH": str(site)},
    )


def test_a_module_edited_in_place_is_said_and_frames_show_what_ran(
    cli: Callable[..., Any], captured: dict[str, Path]
) -> None:
    module = captured["module"]
    module.write_text(CHANGED)
    frames = run(cli, captured, captured["site"], "--frames")
    assert frames.returncode == 0, frames.stderr
    assert f"Warning: {module} differs from the source captured on the worker" in frames.stderr
    assert "module seedmod: first difference at line 1" in frames.stderr
    assert "the frames show the captured source" in frames.stderr
    assert "2  ->\t    return 1 / x" in frames.stdout
    assert "LIMIT" not in frames.stdout  # the local line 2 never ran
    assert "(Pdb) 0" in frames.stdout

    rerun = run(cli, captured, captured["site"])
    assert rerun.returncode == 1, rerun.stderr
    assert "the re-run runs this machine's code" in rerun.stderr
    # The re-run executes this machine's file: its line 8 is the one that raised now.
    assert "8  ->\t    return 1 / x" in rerun.stdout


def test_a_module_imported_from_elsewhere_is_said_with_both_files(
    cli: Callable[..., Any], captured: dict[str, Path], tmp_path: Path
) -> None:
    worker_file = captured["module"]
    shutil.rmtree(captured["site"])  # the worker's files are not on this machine
    here = tmp_path / "here"
    here.mkdir()
    (here / "seedmod.py").write_text(CHANGED)
    for mode in (["--frames"], []):
        result = run(cli, captured, here, *mode)
        assert result.returncode == (0 if mode else 1), result.stderr
        assert (
            f"Warning: {here / 'seedmod.py'} differs from the source captured on the worker "
            f"(the worker's {worker_file}): module seedmod: first difference at line 1: "
            "here 'VERSION = 2', on the worker 'def recip(x):'"
        ) in result.stderr
        if mode:
            assert "2  ->\t    return 1 / x" in result.stdout
            assert "LIMIT" not in result.stdout


def test_an_unchanged_module_says_nothing(
    cli: Callable[..., Any], captured: dict[str, Path]
) -> None:
    for mode in (["--frames"], []):
        result = run(cli, captured, captured["site"], *mode)
        assert "differs" not in result.stderr
        assert "Note:" not in result.stderr
        assert "2  ->\t    return 1 / x" in result.stdout
