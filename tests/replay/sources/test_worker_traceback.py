"""The worker's traceback loses the lines of a file whose captured text is not the code
that ran; ``info`` checks that by compiling the text, the frame's own statement first."""

from __future__ import annotations

import sys
import types

import pytest

import snapshot
from replay._sources import worker_traceback
from replay._sources.worker_traceback import checked_traceback, stale_files
from snapshot._codehash import code_objects, code_sha256

MODULE = '''"""A module as a worker imported it."""

from __future__ import annotations

import functools
import time
from typing import Any

LIMIT = 3
\x0c


def helper(x: Any) -> int:
    return len(x)


class Task:
    """A class whose method fails."""

    def __init__(self, x: Any) -> None:
        self.x = x

    @property
    def size(self) -> int:
        return helper(self.x)

    def run(self) -> None:
        started = time.perf_counter()

        def inner() -> None:
            raise ValueError(f"bad {self.x} after {started}")

        try:
            inner()
        except KeyError:
            pass
        else:
            return
        finally:
            pass


@functools.wraps(
    len,
)
@staticmethod
def decorated(x: Any) -> None:
    raise ValueError(x)
'''


def _line(text: str) -> int:
    return MODULE.splitlines().index(text) + 1


RUN_LINE = _line("            inner()")
INNER_LINE = _line('            raise ValueError(f"bad {self.x} after {started}")')
TRACEBACK = (
    "Traceback (most recent call last):\n"
    f'  File "/work/mod.py", line {RUN_LINE}, in run\n'
    "    inner()\n"
    f'  File "/work/mod.py", line {INNER_LINE}, in inner\n'
    '    raise ValueError(f"bad {self.x} after {started}")\n'
    "ValueError: bad 1\n"
)


def _frame(text: str, function: str, lineno: int) -> snapshot.Frame:
    """A frame as the writer records it: the hash of the code that ran, compiled from
    ``text`` (the module as it was imported)."""
    module = compile(text, "/work/mod.py", "exec", dont_inherit=True)
    code = next(c for c in code_objects(module) if c.co_name == function)
    return snapshot.Frame(
        filename="/work/mod.py",
        function=function,
        lineno=lineno,
        firstlineno=code.co_firstlineno,
        source="s0",
        code_sha256=code_sha256(code),
    )


def _model(*frames: snapshot.Frame, python: str | None = None) -> snapshot.Manifest:
    version = python or ".".join(map(str, sys.version_info[:3]))
    return snapshot.Manifest(
        frames=frames,
        environment=snapshot.Environment(python=snapshot.PythonInfo(version=version)),
        error=snapshot.Error(type="ValueError", message="bad 1", traceback=TRACEBACK),
    )


FRAMES = (
    ("run", RUN_LINE),
    ("inner", INNER_LINE),
    ("size", _line("        return helper(self.x)")),
    ("helper", _line("    return len(x)")),
    ("decorated", _line("    raise ValueError(x)")),
)


@pytest.mark.parametrize(("function", "lineno"), FRAMES)
def test_the_text_that_ran_is_verified_by_its_own_statement(
    function: str, lineno: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each kind of frame (a method, a closure, a property, a function, one under
    decorators over several lines, under ``from __future__ import annotations`` and
    module-level imports that change how calls compile, after a form feed) is proven
    from its statement alone: the whole file is never compiled."""
    frame = _frame(MODULE, function, lineno)
    assert worker_traceback._runs_in_statement(MODULE, "/work/mod.py", frame)
    whole: list[str] = []
    real = worker_traceback._compiled

    def compiled(text: str, filename: str) -> types.CodeType | None:
        if text == MODULE:
            whole.append(filename)
        return real(text, filename)

    monkeypatch.setattr(worker_traceback, "_compiled", compiled)
    assert stale_files(_model(frame), {"s0": MODULE}.get) == {}
    assert whole == []


def test_a_file_edited_after_the_import_loses_its_lines() -> None:
    frames = (_frame(MODULE, "run", RUN_LINE), _frame(MODULE, "inner", INNER_LINE))
    edited = MODULE.replace("raise ValueError(f", "raise TypeError(f")
    model = _model(*frames)
    # run() holds inner()'s code: the first frame checked already tells.
    assert stale_files(model, {"s0": edited}.get) == {
        "/work/mod.py": "its text is not the code of run()"
    }
    text = checked_traceback(model, {"s0": edited}.get)
    assert text is not None
    assert "raise ValueError" not in text and "inner()\n" not in text
    assert text.count("line not shown") == 2
    assert checked_traceback(model, {"s0": MODULE}.get) == TRACEBACK


def test_a_line_moved_by_an_edit_elsewhere_in_the_file_is_caught() -> None:
    """The statement is the same text, one line further down: not the code that ran."""
    frame = _frame(MODULE, "run", RUN_LINE)
    moved = MODULE.replace("LIMIT = 3\n", "LIMIT = 3\nOTHER = 4\n")
    assert not worker_traceback._runs_in_statement(moved, "/work/mod.py", frame)
    assert "/work/mod.py" in stale_files(_model(frame), {"s0": moved}.get)


def test_text_that_fools_the_split_falls_back_to_the_whole_file() -> None:
    """A multi-line string with text at column 0 cuts the statement short: no proof
    from the statement, and the whole file still proves it."""
    tricky = MODULE.replace(
        "        started = time.perf_counter()\n",
        '        started = time.perf_counter()\n        note = """\nclass X:\n"""\n',
    )
    frame = _frame(tricky, "run", RUN_LINE + 3)
    assert not worker_traceback._runs_in_statement(tricky, "/work/mod.py", frame)
    assert stale_files(_model(frame), {"s0": tricky}.get) == {}


def test_another_pythons_frames_are_checked_by_lines_only() -> None:
    frame = _frame(MODULE, "run", RUN_LINE)
    assert stale_files(_model(frame, python="2.7.18"), {"s0": MODULE}.get) == {}
    edited = MODULE.replace("    def run(self)", "\n    def run(self)")
    assert "/work/mod.py" in stale_files(_model(frame, python="2.7.18"), {"s0": edited}.get)


def test_a_file_whose_source_was_not_read_is_marked_as_not_checked() -> None:
    """A quick read that stopped before the captured text cannot check the worker's
    lines: they are shown as the worker printed them, and said to be unchecked."""
    frames = (_frame(MODULE, "run", RUN_LINE), _frame(MODULE, "inner", INNER_LINE))
    text = checked_traceback(_model(*frames), {}.get)
    assert text is not None
    assert text.count("not checked: its source is past what was read; --deep checks it") == 2
    assert "raise ValueError" in text
