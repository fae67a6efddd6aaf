"""Re-running under a debugger and opening the captured frames, saying what happens.

The one implementation behind :meth:`Replay.debug` and :meth:`Replay.post_mortem`,
which ``python -m replay`` calls too: the command line and a notebook print the
same lines.  Our own words go to ``out`` (the verdict, what opens) and ``err``
(tracebacks, notes); the debugger itself uses ``sys.stdin`` and ``sys.stdout``.
Every string that came from the snapshot, or from code it ran, is printed
through :func:`for_terminal`.
"""

from __future__ import annotations

import linecache
import sys
import traceback
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

import snapshot

from .._describe.death import death_conditions, describe_death_outcome
from .choose import Debugger, DebuggerUnavailableError
from .._sources.live_lines import verified_lines
from .._terminal import FIELD_LIMIT, for_terminal, terminal_lines
from .verdict import Outcome

if TYPE_CHECKING:
    from .._session import Replay

__all__ = ["open_frames", "rerun", "safe_repr", "say"]

_PDB_COMMANDS = "commands: where, up, down, p NAME, pp NAME, ll, list, q to quit"


def say(stream: TextIO, text: str = "") -> None:
    print(text, file=stream, flush=True)


def rerun(session: Replay, debugger: Debugger | None, out: TextIO, err: TextIO) -> Outcome:
    """Re-execute the call; print its traceback and the verdict; open ``debugger`` at the raise."""
    func = session.func  # unpickled before waiting for an IDE to attach
    _say_sources(session, err, rerun=True)
    say(out, f"Re-running {_callable_name(func)} with the captured arguments...")
    if debugger is not None and debugger.attach is not None:
        debugger.attach(session, out, err)
    # A worker's death is re-run under its conditions (memory limit, os._exit).
    with death_conditions(session.model, session.memory_limit) as notes:
        for note in notes:
            say(out, note)
        outcome = session.replay(debugger=debugger)
    exception = outcome.exception
    tb = exception.__traceback__ if exception is not None else None
    # The files of the re-run's frames, as the traceback and the debugger read them,
    # show only text that compiles to the code that ran (a module edited since import).
    with verified_lines(tb, _captured_sources(session)) as line_notes:
        for note in line_notes:
            say(err, for_terminal(note, one_line=True))
        if exception is not None:
            for line in terminal_lines("".join(traceback.format_exception(exception))):
                err.write(line + "\n")
            err.flush()
        say(
            out,
            describe_death_outcome(session.model, outcome) or outcome.describe(session.model.error),
        )
        if tb is not None and debugger is not None and debugger.post_mortem is not None:
            say(out, f"Post-mortem {debugger.name} at the line that raised{_help(debugger)}")
            _run_debugger(debugger, tb, exception)
            _end_prompt_line(out)
    return outcome


def _captured_sources(session: Replay) -> Mapping[str, str]:
    try:
        return session.sources
    except snapshot.SnapshotError:
        return {}


def open_frames(session: Replay, debugger: Debugger | None, out: TextIO, err: TextIO) -> None:
    """Open ``debugger`` over the frames captured at the raise, or print them without one."""
    if debugger is not None and debugger.post_mortem is None:
        raise DebuggerUnavailableError(
            f"{debugger.name} cannot open captured frames; use pdb, ipdb or pudb."
        )
    if not session.model.frames:
        raise snapshot.SnapshotFormatError(
            f"{session.path}: the snapshot holds no captured frames; re-run the call instead "
            "(without --frames)",
            path=session.path,
        )
    # Sources first: the frames take their file names from where the source was found.
    _say_sources(session, err, rerun=False)
    session.install_sources(rerun=False)
    frames = session.frames
    if debugger is None:
        say(out, "Frames captured at the raise (outermost first):")
        for frame in frames:
            where = for_terminal(frame.filename, one_line=True)
            function = for_terminal(frame.function, one_line=True)
            say(out, f'  File "{where}", line {frame.lineno}, in {function}')
            line = linecache.getline(frame.filename, frame.lineno).strip()
            if line:
                say(out, f"    {for_terminal(line, one_line=True)}")
            for name, value in frame.locals.items():
                say(out, f"      {for_terminal(name, one_line=True)} = {safe_repr(value)}")
        return
    count = len(frames)
    say(
        out,
        f"Opening {debugger.name} on the {count} frame{'' if count == 1 else 's'} captured at "
        f"the raise; nothing is re-run{_help(debugger)}",
    )
    tb = session.traceback()
    assert tb is not None
    _run_debugger(debugger, tb, session.frames_exception())
    _end_prompt_line(out)


def _say_sources(session: Replay, err: TextIO, *, rerun: bool) -> None:
    """Say where the source shown comes from, which is unknown and why, what differs here."""
    for line in session.source_report(rerun=rerun).messages():
        say(err, for_terminal(line, one_line=True))


def _run_debugger(
    debugger: Debugger, tb: types.TracebackType, exception: BaseException | None
) -> None:
    """Hand over to the debugger; its own crash becomes one of our errors, not a traceback."""
    assert debugger.post_mortem is not None
    try:
        debugger.post_mortem(tb, exception)
    except Exception as exc:
        raise DebuggerUnavailableError(
            f"{debugger.name} stopped with {type(exc).__name__}: {safe_str(exc)}; "
            "try `--debugger pdb`."
        ) from exc


def _end_prompt_line(out: TextIO) -> None:
    """With commands piped in, the debugger's last prompt has no newline: end it."""
    if sys.stdin is not None and not sys.stdin.isatty():
        say(out)


def _help(debugger: Debugger) -> str:
    return f" ({_PDB_COMMANDS})." if debugger.name in ("pdb", "ipdb") else "."


def _callable_name(func: object) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if isinstance(name, str) and name:
        return f"{for_terminal(name, one_line=True)}()"
    return safe_repr(func)


def safe_repr(value: object, limit: int = 200) -> str:
    """``repr(value)`` for a terminal, cut at ``limit``; a failing ``__repr__`` is named."""
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return for_terminal(text, one_line=True)


def safe_str(value: object) -> str:
    """``str(value)`` for a terminal, capped; a failing ``__str__`` is named."""
    try:
        text = str(value)
    except Exception as exc:
        text = f"<str failed: {type(exc).__name__}>"
    return for_terminal(text, one_line=True, limit=FIELD_LIMIT)
