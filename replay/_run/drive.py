"""What replay says around a re-run or the captured frames, and handing over to the debugger.

:meth:`Replay.debug` and :meth:`Replay.post_mortem` (which ``python -m
replay`` calls too) print through these, so the command line and a notebook
print the same lines.  Our own words go to ``out`` (the verdict, what opens)
and ``err`` (tracebacks, notes); the debugger itself uses ``sys.stdin`` and
``sys.stdout``.  Every string that came from the snapshot, or from code it
ran, is printed through :func:`for_terminal`.
"""

from __future__ import annotations

import linecache
import sys
import traceback
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

import snapshot

from .._errors import DebuggerUnavailableError
from .._frames import CapturedFrame
from .._sources.live_lines import verified_lines
from .._terminal import FIELD_LIMIT, for_terminal, terminal_lines
from .debugger import Debugger
from .verdict import Outcome, death_verdict

__all__ = [
    "announce_frames",
    "callable_name",
    "end_prompt_line",
    "print_frames",
    "require_frames",
    "run_debugger",
    "say",
    "say_each",
    "show_outcome",
]

_PDB_COMMANDS = "commands: where, up, down, p NAME, pp NAME, ll, list, q to quit"


def say(stream: TextIO, text: str = "") -> None:
    print(text, file=stream, flush=True)


def say_each(stream: TextIO, lines: Iterable[str]) -> None:
    """One escaped line each (where the sources come from, notes, warnings)."""
    for line in lines:
        say(stream, for_terminal(line, one_line=True))


def callable_name(func: object) -> str:
    """``recip()``: the function about to be re-run, as the user reads it."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if isinstance(name, str) and name:
        return f"{for_terminal(name, one_line=True)}()"
    return _repr(func)


def show_outcome(
    outcome: Outcome,
    model: snapshot.Manifest,
    captured: Mapping[str, str],
    debugger: Debugger | None,
    out: TextIO,
    err: TextIO,
) -> None:
    """Print the re-run's traceback and the verdict; open ``debugger`` at the raise.

    ``captured`` holds the snapshot's source texts: the files of the re-run's
    frames, as the traceback and the debugger read them, show only text that
    compiles to the code that ran (a module edited since import).
    """
    exception = outcome.exception
    tb = exception.__traceback__ if exception is not None else None
    with verified_lines(tb, captured) as line_notes:
        say_each(err, line_notes)
        if exception is not None:
            for line in terminal_lines("".join(traceback.format_exception(exception))):
                err.write(line + "\n")
            err.flush()
        say(out, death_verdict(model, outcome) or outcome.describe(model.error))
        if tb is not None and debugger is not None and debugger.post_mortem is not None:
            say(out, f"Post-mortem {debugger.name} at the line that raised{_help(debugger)}")
            run_debugger(debugger, tb, exception)
            end_prompt_line(out)


def require_frames(debugger: Debugger | None, model: snapshot.Manifest, path: str) -> None:
    """Refuse a post-mortem that cannot be: a debugger that opens no frames, or none captured."""
    if debugger is not None and debugger.post_mortem is None:
        raise DebuggerUnavailableError(
            f"{debugger.name} cannot open captured frames; use pdb, ipdb or pudb."
        )
    if not model.frames:
        raise snapshot.SnapshotFormatError(
            f"{path}: the snapshot holds no captured frames; re-run the call instead "
            "(without --frames)",
            path=path,
        )


def print_frames(frames: Sequence[CapturedFrame], out: TextIO) -> None:
    """The frames captured at the raise and their locals, without a debugger."""
    say(out, "Frames captured at the raise (outermost first):")
    for frame in frames:
        where = for_terminal(frame.filename, one_line=True)
        function = for_terminal(frame.function, one_line=True)
        say(out, f'  File "{where}", line {frame.lineno}, in {function}')
        line = linecache.getline(frame.filename, frame.lineno).strip()
        if line:
            say(out, f"    {for_terminal(line, one_line=True)}")
        for name, value in frame.locals.items():
            say(out, f"      {for_terminal(name, one_line=True)} = {_repr(value)}")


def announce_frames(debugger: Debugger, count: int, out: TextIO) -> None:
    say(
        out,
        f"Opening {debugger.name} on the {count} frame{'' if count == 1 else 's'} captured at "
        f"the raise; nothing is re-run{_help(debugger)}",
    )


def run_debugger(
    debugger: Debugger, tb: types.TracebackType, exception: BaseException | None
) -> None:
    """Hand over to the debugger; its own crash becomes one of our errors, not a traceback."""
    assert debugger.post_mortem is not None
    try:
        debugger.post_mortem(tb, exception)
    except Exception as exc:
        said = for_terminal(snapshot.safe_str(exc), one_line=True, limit=FIELD_LIMIT)
        raise DebuggerUnavailableError(
            f"{debugger.name} stopped with {type(exc).__name__}: {said}; try `--debugger pdb`."
        ) from exc


def end_prompt_line(out: TextIO) -> None:
    """With commands piped in, the debugger's last prompt has no newline: end it."""
    if sys.stdin is not None and not sys.stdin.isatty():
        say(out)


def _help(debugger: Debugger) -> str:
    return f" ({_PDB_COMMANDS})." if debugger.name in ("pdb", "ipdb") else "."


def _repr(value: object) -> str:
    """A value for a terminal: snapshot's never-raising repr, cut at 200, then escaped."""
    return for_terminal(snapshot.safe_repr(value, 200), one_line=True)
