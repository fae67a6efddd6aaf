"""No wrong line in a long-lived process whose module file was edited after it was imported.

The code that runs is the module imported before the edit; the file on disk
says something else.  A re-run (``Replay.debug()``) shows the captured source
when it is that code, and no lines when there is none; ``%debug`` after the
cell shows the frames as they were verified at the failure.  Each case runs in
a fresh process that imports the module, captures its failure, edits it, then
debugs, with pdb's commands on standard input.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MODULE = "def mrecip(x):\n    y = x\n    return 1 / y\n"
EDITED = "VERSION = 2\n\n\n# fixed\ndef mrecip(x):\n    y = x + 1\n    return 1 / y\n"

CAPTURE = """\
import sys
sys.path.insert(0, sys.argv[1])
import mods, snapshot

import linecache
if sys.argv[3] == "no-sources":  # a worker whose line cache had no text for the file
    linecache.cache[mods.__file__] = (0, None, [], mods.__file__)
builder = snapshot.SnapshotBuilder()
try:
    mods.mrecip(0)
except ZeroDivisionError as exc:
    builder.capture_exception(exc)
    error = exc
builder.set_call(mods.mrecip, (0,))
linecache.cache.pop(mods.__file__, None)
path = builder.write(sys.argv[2])
"""

RERUN = (
    CAPTURE
    + """\
open(mods.__file__, "w").write(sys.argv[4])  # edited after the import, before the debugger
import replay
replay.load(path).debug()
"""
)

IPYTHON = (
    CAPTURE
    + """\
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "replay")
shell.user_ns["error"] = error
error.add_note(f"dask-replay: snapshot written to {sys.argv[5]}:{path}")
shell.run_cell("raise error")
open(mods.__file__, "w").write(sys.argv[4])  # edited after the cell, before %debug
shell.run_line_magic("debug", "")
"""
)


def run(script: str, tmp_path: Path, mode: str, commands: str) -> tuple[str, str]:
    """The debugger's output (stdout) and our notes (stderr)."""
    (tmp_path / "mods.py").write_text(MODULE)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path),
            str(tmp_path / "mods.tar.zst"),
            mode,
            EDITED,
            socket.gethostname(),
        ],
        input=commands,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "Traceback (most recent call last)" not in result.stderr.split("ZeroDivisionError")[-1]
    return result.stdout, result.stderr


def test_a_re_run_shows_the_captured_source_of_the_code_that_ran(tmp_path: Path) -> None:
    shown, notes = run(RERUN, tmp_path, "sources", "ll\np y\nq\n")
    assert "is not the code that ran in mrecip()" in notes, notes
    assert "the debugger shows the source captured on the worker" in notes
    assert "line 3, in mrecip\n    return 1 / y\n" in notes  # the printed traceback too
    assert "  3  ->\t    return 1 / y" in shown, shown
    assert "VERSION = 2" not in shown and "y = x + 1" not in shown, shown
    assert "(Pdb) 0" in shown


def test_without_a_captured_source_a_re_run_shows_no_lines(tmp_path: Path) -> None:
    shown, notes = run(RERUN, tmp_path, "no-sources", "ll\np y\nq\n")
    assert "the debugger shows no lines" in notes, notes
    assert "VERSION = 2" not in shown and "y = x + 1" not in shown, shown
    assert "-> \n" not in shown and "->\t\n" not in shown, shown
    assert "(Pdb) 0" in shown


@pytest.mark.parametrize("mode", ["sources", "no-sources"])
def test_debug_after_the_cell_shows_the_frames_as_verified_at_the_failure(
    tmp_path: Path, mode: str
) -> None:
    output, _ = run(IPYTHON, tmp_path, mode, "ll\np y\nq\n")
    # What %debug printed: from its "> FILE(3)mrecip()" line on (the cell's traceback,
    # printed at the failure, comes before it).
    _, debugger = ANSI.sub("", output).split("\n> ", 1)
    assert "(3)mrecip()" in debugger.splitlines()[0], debugger
    assert "VERSION = 2" not in debugger and "y = x + 1" not in debugger, debugger
    assert re.search(r"^-+> 3 +return 1 / y$", debugger, re.M), debugger
    assert re.search(r"^(ipdb> )?0$", debugger, re.M), debugger
