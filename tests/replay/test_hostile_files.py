"""Files written to attack the reader of their output: every command stays in control.

A genuine snapshot is taken apart (``crafting.members_of``) and put back
together with a hand-made manifest (``crafting.tar_bytes`` / ``compress``):
the pickles stay genuine, every string the manifest holds becomes hostile.
No byte a terminal would act on may reach stdout or stderr, from any command,
with any output encoding; nothing but our own errors may end a command.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crafting import members_of
from jobs import compile_job, manifest_of, write_snapshot, write_with_manifest
from terminal_checks import unsafe_bytes

import replay
from replay._cli import main

# Everything a terminal acts on, or that hides and reorders text.
HOSTILE = (
    "\x1b]0;title\x07\x1b[2J\x1b[1A\x1b[2K\r\x08\x7f\x9b31m\x85\u202e\u2066\u200e\u061c"
    "\u200b\ufeff\u2028\u2029\t\n\ud800 \udc80\x00"  # two lone surrogates, not a pair
)
# A file name may hold anything but "/" and NUL (\udc80 is the byte 0x80 on disk).
HOSTILE_NAME = "evil\x1b[2J\x1b]0;t\x07\r\n\t\u202e\u2066\x7f\x9b\udc80.tar.zst"

# Strings a reader follows (ids, member names, format): changing them only makes
# the file unreadable, which other tests cover.  Every other string is hostile.
_STRUCTURAL = {"format", "format_version", "member", "sha256", "status", "algorithm"}
_ID_FIELDS = {"func", "args", "piece", "exception", "run_spec", "buffers", "refs"}
_MAPS = {"packages", "variables", "modules", "annotations", "limits"}


def _hostile(text: str) -> str:
    return f"{text}{HOSTILE}"


def hostile_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with every displayed string, key and name made hostile."""

    def walk(value: Any, key: str | None) -> Any:
        if isinstance(value, str):
            return value if key in _STRUCTURAL or key in _ID_FIELDS else _hostile(value)
        if isinstance(value, list):
            return [walk(item, key) for item in value]
        if isinstance(value, dict):  # a map's names are data; a record's are its fields
            rename = _hostile if key in _MAPS else str
            return {rename(name): walk(item, name) for name, item in value.items()}
        return value

    out = copy.deepcopy(manifest)
    for section in ("task", "error", "origin", "environment", "capture", "modules", "inputs"):
        if section in out:
            out[section] = walk(out[section], section)
    out["created"] = _hostile(out.get("created", ""))
    for record in out.get("pieces", {}).values():
        for field in ("label", "type", "repr", "reason"):
            if field in record:
                record[field] = _hostile(str(record[field]))
    for frame in out.get("frames", []):
        for field in ("filename", "function", "qualname", "module"):
            if isinstance(frame.get(field), str):
                frame[field] = _hostile(frame[field])
        frame["locals"] = {_hostile(name): pid for name, pid in frame.get("locals", {}).items()}
        if frame.get("source"):
            frame["source"] = _hostile(frame["source"])
    out["sources"] = {_hostile(name): entry for name, entry in out.get("sources", {}).items()}
    return out


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    """The members of a genuine snapshot: a call, an input, frames with locals, a source."""
    job = compile_job()
    path = tmp_path_factory.mktemp("genuine") / "genuine.tar.zst"
    write_snapshot(path, job["outer"], ([1, 2, 3],), inputs={("dec", 1): 6}, task_key="mean-1")
    return members_of(path)


@pytest.fixture(scope="module")
def hostile_file(
    tmp_path_factory: pytest.TempPathFactory, genuine: list[tuple[str, bytes]]
) -> Path:
    directory = tmp_path_factory.mktemp("hostile")
    manifest = hostile_manifest(manifest_of(genuine))
    return write_with_manifest(directory / HOSTILE_NAME, genuine, manifest)


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "info": lambda p: ["info", str(p)],
    "info --json": lambda p: ["info", "--json", str(p)],
    "list": lambda p: ["list", str(p.parent)],
    "replay --no-debug": lambda p: [str(p), "--no-debug"],
    "--frames --no-debug": lambda p: [str(p), "--frames", "--no-debug"],
    "replay under pdb": lambda p: [str(p)],
    "--frames under pdb": lambda p: [str(p), "--frames"],
}
PDB_COMMANDS = b"where\nll\np x\nup\nll\nq\n"


def run_bytes(args: list[str], cwd: Path, encoding: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DASK_SNAPSHOT"))}
    env["PYTHONIOENCODING"] = encoding
    return subprocess.run(
        [sys.executable, "-m", "replay", *args],
        cwd=cwd,
        input=PDB_COMMANDS,
        capture_output=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii:strict"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_control_character_reaches_the_terminal(
    hostile_file: Path, tmp_path: Path, command: str, encoding: str
) -> None:
    result = run_bytes(COMMANDS[command](hostile_file), tmp_path, encoding)
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1), output.decode("utf-8", "replace")
    assert unsafe_bytes(result.stdout) == [], command
    assert unsafe_bytes(result.stderr) == [], command
    assert b"UnicodeEncodeError" not in output and b"replay/_" not in result.stderr
    assert b"\\x1b" in output or b"\\u001b" in output  # there, shown as escapes
    if command == "info --json":
        document = json.loads(result.stdout)
        assert document["manifest"]["error"]["message"].endswith(HOSTILE)  # nothing lost


def test_info_names_each_problem_and_shows_the_rest(
    genuine: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    manifest = manifest_of(genuine)
    manifest["error"]["message"] = ["not", "a", "string"]
    manifest["frames"][0]["lineno"] = "ten"
    manifest["environment"] = []
    path = write_with_manifest(tmp_path / "typed.tar.zst", genuine, manifest)
    out, err = io.StringIO(), io.StringIO()
    assert main(["info", str(path)], out=out, err=err) == 0, err.getvalue()
    text = out.getvalue()
    assert "Problems in the manifest:" in text
    assert "manifest field `error.message` is a list, not a string: ignored" in text
    assert "manifest field `frames[0].lineno` is a string, not an integer: ignored" in text
    assert "manifest field `environment` is a list, not an object: ignored" in text
    assert "task:    ('dec', 1)" not in text and "mean-1" in text  # the rest is shown
    document = json.loads(_run_main(["info", "--json", str(path)])[1])
    assert document["manifest"]["error"]["message"] == ["not", "a", "string"]  # as read
    assert any("error.message" in problem for problem in document["problems"])


def test_a_huge_message_is_cut_everywhere_but_json(
    genuine: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    manifest = manifest_of(genuine)
    manifest["error"]["message"] = "m" * 5_000_000
    manifest["error"]["traceback"] = "Traceback:\n" + "t" * 5_000_000 + "\n"
    path = write_with_manifest(tmp_path / "big.tar.zst", genuine, manifest)
    for args in (["info", str(path)], [str(path), "--no-debug"], ["list", str(tmp_path)]):
        status, out, err = _run_main(args)
        assert status in (0, 1), err
        assert len(out) + len(err) < 100_000, args
        assert "more characters cut]" in out or args[0] == "list", args
    status, out, _ = _run_main(["info", "--json", str(path)])
    assert status == 0 and len(json.loads(out)["manifest"]["error"]["message"]) == 5_000_000


def _run_main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO("q\n")
    try:
        status = main(args, out=out, err=err)
    finally:
        sys.stdin = stdin
    return status, out.getvalue(), err.getvalue()


def test_the_api_shows_hostile_names_escaped(hostile_file: Path) -> None:
    session = replay.load(hostile_file)
    assert "\x1b" not in repr(session)
    for frame in session.frames:
        assert "\x1b" not in frame.filename and "\x1b" not in frame.function
    assert all("\x1b" not in name for name in session.sources)


def test_a_manifest_of_many_entries_prints_a_page(
    genuine: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    manifest = manifest_of(genuine)
    frame = manifest["frames"][-1]
    pid = next(iter(frame["locals"].values()))
    many_locals = dict(frame, locals={f"v{i}": pid for i in range(20_000)})
    manifest["frames"] = [dict(frame, lineno=i + 1) for i in range(20_000)] + [many_locals]
    manifest["inputs"] = [{"key": f"k{i}", "piece": pid} for i in range(20_000)]
    path = write_with_manifest(tmp_path / "many.tar.zst", genuine, manifest)
    status, out, err = _run_main(["info", str(path)])
    assert status == 0, err
    assert len(out.splitlines()) < 2_000
    assert "... and 19,800 more (`info --json` has all)" in out
    assert "... 19,801 outer frames not shown" in out


def test_no_number_of_module_names_hides_the_standard_library_ones(
    genuine: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    # Protocol 0 GLOBAL opcodes: 3,000 harmless-looking modules sorted before "os".
    decoys = b"".join(b"c" + f"aaa{i:04d}\nf\n0".encode() for i in range(3_000))
    crafted = b"(" + decoys + b"cos\nsystem\n0N."
    members = [(n, crafted if n.startswith("pieces/") else d) for n, d in genuine]
    assert members != genuine
    path = write_with_manifest(tmp_path / "decoys.tar.zst", members, manifest_of(genuine))
    # 6,002 opcodes: more than info's quick scan walks, which says so and names no module
    # past where it stopped; --deep walks them all.
    status, out, err = _run_main(["info", str(path)])
    assert status == 0, err
    assert "the list may be incomplete" in out and "ReadLimits.max_scan_opcodes=2000" in out
    assert "os\n" not in out.partition("Modules the pickles")[2].partition("Versions")[0]
    status, out, err = _run_main(["info", "--deep", str(path)])
    assert status == 0, err
    assert "3,001 modules; of the standard library: os\n" in out
    assert "and 3,000 other top-level names" in out


def test_versions_of_a_million_modules_are_not_all_looked_up(
    genuine: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    manifest = manifest_of(genuine)
    manifest["modules"] = {f"nowhere_{i}": "1.0" for i in range(5_000)}
    path = write_with_manifest(tmp_path / "modules.tar.zst", genuine, manifest)
    status, out, err = _run_main(["info", str(path)])
    assert status == 0, err
    assert "(4,500 more modules recorded on the worker were not checked)" in out
    assert "... and 300 more (`info --json` has all)" in out  # 500 checked, 200 shown
    status, out, err = _run_main([str(path), "--no-debug"])
    assert status == 1
    assert len(err.splitlines()) < 100
    assert "Warning: 480 more versions differ (`python -m replay info` lists them all)" in err
