"""Real frame and traceback objects rebuilt from the frames a snapshot captured.

A debugger walks ``TracebackType`` objects, so the frames captured at the raise
are turned back into real frames the way tblib does it: a code object made of
blank lines and a ``raise`` at the captured line number, renamed after the
captured function, executed with the captured locals as its locals mapping.
The frame of that ``raise`` then carries the right filename, function name,
line number and locals, and ``pdb`` can ``up``, ``down``, ``p`` and ``ll`` over it.
"""

from __future__ import annotations

import builtins
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._terminal import for_terminal

__all__ = [
    "CapturedFrame",
    "build_traceback",
    "captured_frames",
    "function_start",
    "shown_line",
    "shown_name",
]

# The name the generated ``raise`` looks up; it lives in the frame's globals so
# that it never shows among the captured locals.
_MARKER = "__replay_frame_marker__"

_MAX_FUNCTION_LINES = 100_000

_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(?P<name>\w+)\s*[\(\[]")

# A line number a code object and a traceback can hold (a C int), with room to spare.
_MAX_LINE = 10**9


class _FrameMarker(Exception):
    """Raised by the generated code; only its traceback is kept."""


@dataclass(frozen=True)
class CapturedFrame:
    """One frame captured at the raise, outermost first in a snapshot."""

    filename: str
    function: str
    lineno: int
    module: str | None = None
    locals: dict[str, object] = field(default_factory=dict)
    # First line of the function (its ``def``); ``ll`` shows the function from there.
    firstlineno: int | None = None


def shown_name(text: str) -> str:
    """A captured file or function name as a debugger prints it: one terminal-safe line
    (unchanged for any genuine name)."""
    return for_terminal(text, one_line=True)


def shown_line(value: int | None) -> int | None:
    """A captured line number a code object can hold, or None."""
    return value if value is not None and 1 <= value <= _MAX_LINE else None


def function_start(lines: Sequence[str], lineno: int, function: str) -> int | None:
    """Return the line number of the ``def`` of ``function`` enclosing ``lineno``.

    Walks up from ``lineno`` to the nearest ``def function`` less indented than
    the failing line; ``None`` when there is none (module code, lambdas).
    """
    if not 1 <= lineno <= len(lines):
        return None
    indent = _indent(lines[lineno - 1])
    for index in range(lineno - 1, -1, -1):
        line = lines[index]
        match = _DEF.match(line)
        if match and match.group("name") == function and _indent(line) < max(indent, 1):
            return index + 1
        if line.strip() and _indent(line) < indent:
            indent = _indent(line)
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def build_traceback(frames: Sequence[CapturedFrame]) -> types.TracebackType | None:
    """Link real frames for ``frames`` (outermost first) into a traceback.

    The result starts at the outermost frame and ends at the raise point, as a
    traceback from a live exception does; ``None`` when ``frames`` is empty.
    """
    tb: types.TracebackType | None = None
    for captured in reversed(frames):
        frame, lasti = _make_frame(captured)
        tb = types.TracebackType(tb, frame, lasti, captured.lineno)
    return tb


def _make_frame(captured: CapturedFrame) -> tuple[types.FrameType, int]:
    lineno = max(captured.lineno, 1)
    first = captured.firstlineno if captured.firstlineno else lineno
    # A function longer than this shows from here on: the blank lines cost memory.
    first = min(max(first, 1, lineno - _MAX_FUNCTION_LINES), lineno)
    code = compile("\n" * (lineno - first) + f"raise {_MARKER}", captured.filename, "exec")
    # The line table is relative to co_firstlineno: moving it keeps the raise on
    # ``lineno`` and lets inspect.getsourcelines (pdb's ``ll``) find the ``def``.
    code = code.replace(
        co_name=captured.function, co_qualname=captured.function, co_firstlineno=first
    )
    frame_globals: dict[str, object] = {
        "__name__": captured.module or "__replay__",
        "__builtins__": builtins,
        _MARKER: _FrameMarker(),
    }
    try:
        exec(code, frame_globals, dict(captured.locals))
    except _FrameMarker as exc:
        tb = exc.__traceback__
        assert tb is not None and tb.tb_next is not None
        made = tb.tb_next
        return made.tb_frame, made.tb_lasti
    raise AssertionError("the generated frame did not raise")  # pragma: no cover


def captured_frames(
    records: Sequence[Any],
    sources: Mapping[str, str],
    placements: Mapping[int, Any],
    frame_locals: Callable[[int], dict[str, object]],
) -> list[CapturedFrame]:
    """The frames of a snapshot (``snapshot.Frame`` records, outermost first) as a
    debugger shows them: names terminal-safe, each frame placed where its verified
    source was found (``placements``: index -> filename, lineno, firstlineno)."""
    frames = []
    for index, record in enumerate(records):
        # A debugger prints these names: they are made terminal-safe here
        # (unchanged for any genuine name), and so are the keys of ``sources``.
        filename = shown_name(record.filename or "<unknown>")
        function = shown_name(record.function or "<unknown>")
        lineno = shown_line(record.lineno) or 1
        firstlineno = shown_line(record.firstlineno)
        if firstlineno is None and filename in sources:
            lines = sources[filename].splitlines(True)
            firstlineno = function_start(lines, lineno, function)
        placed = placements.get(index)
        if placed is not None:  # the verified source, or a name that shows none
            filename, lineno, firstlineno = placed.filename, placed.lineno, placed.firstlineno
        frames.append(
            CapturedFrame(
                filename=filename,
                function=function,
                lineno=lineno,
                module=record.module,
                locals=frame_locals(index),
                firstlineno=firstlineno,
            )
        )
    return frames
