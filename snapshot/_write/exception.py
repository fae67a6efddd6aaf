"""Describing a live exception: its chain, its traceback text, its frames.

Walks are loops with a ``seen`` set, never recursion (a cycle of causes must not
hang the capture).  Nothing here raises for a hostile exception object.
"""

from __future__ import annotations

import itertools
import linecache
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from types import FrameType, TracebackType
from typing import Any

from .._model.error import MAX_DEPTH as MAX_MEMBER_DEPTH
from .._model.error import MAX_MEMBERS
from .._text import safe_str

MAX_MESSAGE = 100_000
MAX_CHAIN = 32
#: An exception group's members listed (spec 4.3, ``members``): at most
#: ``MAX_MEMBERS`` entries, ``MAX_MEMBER_DEPTH`` levels deep (the model's bounds: what
#: a reader keeps is what the writer writes), each message at most this many characters.
MAX_MEMBER_MESSAGE = 1_000
#: The traceback text keeps this many characters at each end (a message of
#: gigabytes is in it whole otherwise).
MAX_TRACEBACK_END = 200_000


def _notes(exc: BaseException) -> list[str]:
    notes = getattr(exc, "__notes__", None)
    if not isinstance(notes, list | tuple):
        return []
    return [safe_str(n, 10_000) for n in notes]


def _identity(exc: BaseException) -> dict[str, Any]:
    kind = type(exc)
    return {
        "type": kind.__qualname__,
        "module": kind.__module__,
        "message": safe_str(exc),
        "notes": _notes(exc),
    }


def redact_error(error: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """The ``error`` section with ``redact`` applied to every message, note and
    the traceback text (credentials in an exception's text are cut out)."""

    def one(entry: dict[str, Any]) -> dict[str, Any]:
        out = dict(entry)
        for field in ("message", "traceback"):
            if isinstance(out.get(field), str):
                out[field] = redact(out[field])
        if isinstance(out.get("notes"), list):
            out["notes"] = [redact(n) if isinstance(n, str) else n for n in out["notes"]]
        return out

    redacted = one(error)
    for field in ("chain", "members"):
        if isinstance(error.get(field), list):
            redacted[field] = [one(c) if isinstance(c, dict) else c for c in error[field]]
    return redacted


def describe_exception(
    exc: BaseException, skip_frames: int = 0, redact: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """The manifest's ``error`` section: type, message, notes, traceback text, chain.

    ``skip_frames`` leaves the capturing code's own outer frames out of the
    text, as they are left out of the captured frames; ``redact`` (e.g.
    ``Redactor.redact_text``) is applied to every text.
    """
    out = _error_section(exc, skip_frames)
    return redact_error(out, redact) if redact is not None else out


_RECURSIVE_CUTOFF = getattr(traceback, "_RECURSIVE_CUTOFF", 3)


class _Stack(traceback.StackSummary):
    """A stack that formats only the frames ``format`` prints.

    ``StackSummary.format`` formats every frame (reading its line) and then
    drops a recursion's repeats past the third ("[Previous line repeated N
    more times]"): here the repeats it drops are not formatted at all, by the
    same rule (same file, line and function as the frame before).
    """

    _last: tuple[Any, ...] | None = None
    _repeats = 0

    def format_frame_summary(self, frame_summary: Any, *args: Any, **kwargs: Any) -> Any:
        key = (frame_summary.filename, frame_summary.lineno, frame_summary.name)
        if key == self._last:
            self._repeats += 1
            if self._repeats > _RECURSIVE_CUTOFF:
                return ""  # dropped by format(), which only counts it
        else:
            self._last, self._repeats = key, 1
        return super().format_frame_summary(frame_summary, *args, **kwargs)


def _raise_point_stack(tb: TracebackType | None, skip: int) -> traceback.StackSummary:
    """The stack of ``tb`` past ``skip`` entries, with column markers for its last line only.

    Python 3.11 computes each frame's columns (``co_positions``, 6 us a frame)
    and, to print the ``^^^^`` markers, parses its line with ``ast``: the
    larger part of a deep traceback's capture cost, for markers under lines
    that only called the next frame.  Lines are read when formatted.
    """
    stack, innermost = _extract(tb, skip)
    last = tb
    seen: set[int] = set()
    while last is not None and last.tb_next is not None and id(last) not in seen:
        seen.add(id(last))
        last = last.tb_next
    # The raise point's line and columns, on its own entry only: a stack cut
    # short by sys.tracebacklimit ends at a frame that called on.
    if stack and last is not None and last.tb_frame is innermost and last.tb_lasti >= 0:
        positions = _code_position(last.tb_frame.f_code, last.tb_lasti)
        summary = stack[-1]
        if positions[0] is not None:
            summary.lineno = positions[0]
        summary.end_lineno, summary.colno, summary.end_colno = positions[1:]
    return stack


def _extract(tb: TracebackType | None, skip: int) -> tuple[_Stack, FrameType | None]:
    """``StackSummary.extract`` of ``tb``'s entries (``sys.tracebacklimit`` too),
    with each file's lazy source registered once, not once per frame; and the
    frame of its last entry."""
    entries: Iterable[tuple[FrameType, int]] = iter_traceback(tb, skip)
    limit = getattr(sys, "tracebacklimit", None)
    if isinstance(limit, int):  # the outermost entries, as traceback's
        entries = itertools.islice(entries, max(limit, 0))
    stack = _Stack()
    files: set[tuple[str, int]] = set()
    summary = traceback.FrameSummary
    frame = None
    for frame, lineno in entries:
        code = frame.f_code
        filename = code.co_filename
        if (filename, id(frame.f_globals)) not in files:
            files.add((filename, id(frame.f_globals)))
            linecache.lazycache(filename, frame.f_globals)
        stack.append(summary(filename, lineno, code.co_name, lookup_line=False))
    for filename in {f for f, _ in files}:
        linecache.checkcache(filename)
    return stack, frame


def _code_position(code: Any, lasti: int) -> tuple[Any, ...]:
    """``(line, end_line, column, end_column)`` of the instruction at ``lasti``."""
    found = next(itertools.islice(code.co_positions(), lasti // 2, None), None)
    return tuple(found) if found is not None else (None, None, None, None)


def _carets_at_raise_only(described: traceback.TracebackException) -> None:
    """Keep the ``^^^^`` markers for the line that raised only, in the chained exceptions."""
    seen: set[int] = set()
    todo = [described]
    while todo:
        current = todo.pop()
        if id(current) in seen or len(seen) > MAX_CHAIN:
            continue
        seen.add(id(current))
        if current is not described:
            for summary in list(current.stack)[:-1]:
                summary.colno = None
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _error_section(exc: BaseException, skip_frames: int) -> dict[str, Any]:
    out = _identity(exc)
    try:
        # The traceback's own stack is made apart (see _raise_point_stack): the
        # exception's is empty here, its causes' and contexts' are made as usual.
        described = traceback.TracebackException(type(exc), exc, None)
        described.stack = _raise_point_stack(exc.__traceback__, skip_frames)
        _carets_at_raise_only(described)
        out["traceback"] = _bounded("".join(described.format()))
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt):
            raise
        out["traceback"] = f"<traceback could not be formatted: {type(err).__name__}>"
    chain: list[dict[str, Any]] = []
    seen = {id(exc)}
    current: BaseException | None = exc
    while current is not None and len(chain) < MAX_CHAIN:
        if current.__cause__ is not None:
            relation, nxt = "cause", current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            relation, nxt = "context", current.__context__
        else:
            break
        if id(nxt) in seen:
            break
        seen.add(id(nxt))
        chain.append({"relation": relation, **_identity(nxt)})
        current = nxt
    out["chain"] = chain
    group = _sub_exceptions(exc)
    if group is not None:
        out["members"], out["members_omitted"] = _members(exc, group)
    return out


def _sub_exceptions(exc: BaseException) -> tuple[BaseException, ...] | None:
    """An exception group's ``exceptions``; None for any other exception."""
    if not isinstance(exc, BaseExceptionGroup):
        return None
    try:
        members = exc.exceptions
    except Exception:
        return ()
    return members if isinstance(members, tuple) else ()


def _members(
    exc: BaseException, group: tuple[BaseException, ...]
) -> tuple[list[dict[str, Any]], int]:
    """An exception group's members depth-first (spec 4.3), within the bounds, and how
    many of its own members are not listed.

    Each listed group has ``omitted``: how many of its members are not listed
    (past :data:`MAX_MEMBERS` entries or :data:`MAX_MEMBER_DEPTH` levels).  A
    loop over a stack that holds at most ``MAX_MEMBERS`` members per level.
    """
    entries: list[dict[str, Any]] = []
    omitted = {-1: 0}  # by the index of the group's entry; -1: the exception itself
    seen = {id(exc)}
    stack: list[tuple[BaseException, int, int]] = []

    def push(members: tuple[BaseException, ...], depth: int, parent: int) -> None:
        kept = members[:MAX_MEMBERS]
        omitted[parent] += len(members) - len(kept)
        stack.extend((m, depth, parent) for m in reversed(kept))

    push(group, 1, -1)
    while stack:
        member, depth, parent = stack.pop()
        if len(entries) >= MAX_MEMBERS or id(member) in seen:
            omitted[parent] += 1
            continue
        seen.add(id(member))
        kind = type(member)
        entries.append(
            {
                "depth": depth,
                "type": kind.__qualname__,
                "module": kind.__module__,
                "message": safe_str(member, MAX_MEMBER_MESSAGE),
            }
        )
        children = _sub_exceptions(member)
        if children is not None:
            index = len(entries) - 1
            omitted[index] = 0
            if depth >= MAX_MEMBER_DEPTH:
                omitted[index] = len(children)
            else:
                push(children, depth + 1, index)
    for index, count in omitted.items():
        if index >= 0:
            entries[index]["omitted"] = count
    return entries, omitted[-1]


def _bounded(text: str) -> str:
    """``text``, or its two ends around a line saying how much was cut."""
    if len(text) <= 2 * MAX_TRACEBACK_END:
        return text
    cut = len(text) - 2 * MAX_TRACEBACK_END
    return (
        f"{text[:MAX_TRACEBACK_END]}\n... [{cut} characters cut by dask-replay] ...\n"
        f"{text[-MAX_TRACEBACK_END:]}"
    )


def iter_traceback(tb: TracebackType | None, skip: int = 0) -> Iterator[tuple[FrameType, int]]:
    """``(frame, line)`` from the outermost entry to the raise point."""
    seen: set[int] = set()
    index = 0
    while tb is not None and id(tb) not in seen:
        seen.add(id(tb))
        if index >= skip:
            yield tb.tb_frame, tb.tb_lineno
        index += 1
        tb = tb.tb_next


def frame_source(frame: FrameType, max_bytes: int) -> str | None:
    """The text of the frame's file as the importing machinery sees it, if readable."""
    filename = frame.f_code.co_filename
    try:
        lines = linecache.getlines(filename, frame.f_globals)
    except Exception:
        return None
    if not lines:
        return None
    text = "".join(lines)
    return text if len(text.encode("utf-8", "surrogateescape")) <= max_bytes else None
