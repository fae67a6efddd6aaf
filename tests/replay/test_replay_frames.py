"""Real frames rebuilt from captured ones: pdb walks them and shows their source."""

from __future__ import annotations

import io
import linecache
import os
import pdb
import traceback

from replay import CapturedFrame, build_traceback
from replay._frames import function_start
from replay._sources.report import install_sources, source_lines

SOURCE = """\
def outer(values):
    total = sum(values)
    return inner(total)


def inner(total):
    ratio = total / 0
    return ratio
"""
FILENAME = "/nowhere/on/this/machine/pipeline.py"

FRAMES = [
    CapturedFrame(FILENAME, "outer", 3, "pipeline", {"values": [1, 2], "total": 3}, 1),
    CapturedFrame(FILENAME, "inner", 7, "pipeline", {"total": 3}, 6),
]


def drive_pdb(commands: str) -> str:
    """Run pdb post-mortem over FRAMES with ``commands`` on its stdin; return its output."""
    install_sources({FILENAME: SOURCE})
    tb = build_traceback(FRAMES)
    assert tb is not None
    out = io.StringIO()
    debugger = pdb.Pdb(stdin=io.StringIO(commands), stdout=out)
    debugger.use_rawinput = False
    debugger.reset()
    debugger.interaction(None, tb)
    return out.getvalue()


def test_frames_carry_names_lines_and_locals() -> None:
    tb = build_traceback(FRAMES)
    summary = traceback.extract_tb(tb)
    assert [(f.filename, f.name, f.lineno) for f in summary] == [
        (FILENAME, "outer", 3),
        (FILENAME, "inner", 7),
    ]
    assert tb is not None and tb.tb_next is not None
    assert tb.tb_frame.f_locals == {"values": [1, 2], "total": 3}
    assert tb.tb_next.tb_frame.f_globals["__name__"] == "pipeline"
    assert build_traceback([]) is None


def test_pdb_ll_shows_the_captured_source_of_a_missing_file() -> None:
    assert not os.path.exists(FILENAME)
    out = drive_pdb("ll\nq\n")
    assert "6  \tdef inner(total):" in out
    assert "7  ->\t    ratio = total / 0" in out
    assert "def outer" not in out  # ll shows the function, not the whole file


def test_pdb_moves_up_and_down_and_prints_locals() -> None:
    out = drive_pdb("p total\nup\np values, total\nlist\ndown\nwhere\nq\n")
    assert "(Pdb) 3\n" in out
    assert "(Pdb) ([1, 2], 3)\n" in out
    assert "  3  ->\t    return inner(total)" in out
    assert f"> {FILENAME}(7)inner()" in out


def test_captured_locals_are_copied() -> None:
    locals_ = {"x": 1}
    tb = build_traceback([CapturedFrame(FILENAME, "f", 2, None, locals_, None)])
    assert tb is not None
    tb.tb_frame.f_locals["x"] = 2
    assert locals_ == {"x": 1}


def test_function_start_finds_the_enclosing_def() -> None:
    lines = source_lines(SOURCE)
    assert function_start(lines, 7, "inner") == 6
    assert function_start(lines, 3, "outer") == 1
    assert function_start(lines, 3, "inner") is None
    assert function_start(lines, 99, "inner") is None


def test_a_local_file_wins_and_a_different_one_is_reported(tmp_path) -> None:
    local = tmp_path / "job.py"
    local.write_text("x = 1\n")
    assert install_sources({str(local): "x = 1\n"}) == []
    [warning] = install_sources({str(local): "x = 2\n"})
    assert str(local) in warning and "differs" in warning
    assert linecache.getline(str(local), 1) == "x = 1\n"
