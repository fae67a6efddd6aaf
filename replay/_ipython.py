"""``%debug`` after a failed Dask task opens the frames captured on the worker.

An IPython extension (``%load_ext replay``; the hook's client part loads it
inside IPython).  IPython's ``%debug`` opens ``sys.last_value`` (its
``__traceback__``) and ``sys.last_traceback``, which IPython sets when a cell
raises, just before the ``post_run_cell`` event.  For an exception that
carries a ``dask-replay: snapshot written to`` note, and only for one, the
handler below puts there the exception captured on the worker with a real
traceback over the captured frames, their locals and verified source
(:meth:`replay.Replay.traceback`): ``%debug`` then shows the cell's
``return 1 / x`` and ``p x`` gives the worker's value.  The traceback shown
under the cell, and every other exception, stay as IPython made them.

The extension also adds a line magic, ``%replay [--frames] [EXPR]``: it
re-runs the failing call under the debugger (``replay.debug``), or with
``--frames`` opens the captured frames (``replay.post_mortem``), for EXPR (a
failed future, its exception or a snapshot's path, evaluated in the user's
namespace) or, without one, the last cell's failed task.
"""

from __future__ import annotations

import sys
from typing import Any

from ._fetch.killed import is_killed_worker

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_NOTE = "dask-replay: snapshot written to "


#: The client's exception of the last cell whose task failed with a snapshot.
_last: list[BaseException] = []

_USAGE = (
    "usage: %replay [--frames] [EXPR]: re-run the failing call under the debugger (with "
    "--frames: open the frames captured on the worker) for EXPR (a failed future, its "
    "exception, or a snapshot's path) or, without EXPR, the last cell's failed task"
)


def load_ipython_extension(shell: Any) -> None:
    """Register the ``post_run_cell`` handler and the ``%replay`` magic (once)."""
    if _after_cell not in shell.events.callbacks.get("post_run_cell", []):
        shell.events.register("post_run_cell", _after_cell)
    shell.register_magic_function(_replay_magic(shell), "line", "replay")


def _replay_magic(shell: Any) -> Any:
    def replay(line: str) -> None:
        """%replay [--frames] [EXPR]: debug a failed task (the last one, or EXPR's)."""
        from snapshot import SnapshotError

        from ._shortcuts import debug, post_mortem

        words = line.split(maxsplit=1)
        frames = bool(words) and words[0] == "--frames"
        expression = (words[1] if frames and len(words) > 1 else "" if frames else line).strip()
        if expression in {"-h", "--help"}:
            print(_USAGE)
            return
        if expression:
            try:
                target = shell.ev(expression)
            except Exception as err:
                print(f"%replay: cannot evaluate {expression!r}: {type(err).__name__}: {err}")
                return
        elif _last:
            target = _last[-1]
        else:
            print("%replay: no cell has failed on the cluster yet. " + _USAGE)
            return
        try:
            (post_mortem if frames else debug)(target)
        except (SnapshotError, TypeError) as err:
            print(f"%replay: {err}")

    return replay


def unload_ipython_extension(shell: Any) -> None:
    if _after_cell in shell.events.callbacks.get("post_run_cell", []):
        shell.events.unregister("post_run_cell", _after_cell)


def _after_cell(result: Any) -> None:
    exc = getattr(result, "error_in_exec", None)
    if isinstance(exc, BaseException) and is_killed_worker(exc) and not _has_note(exc):
        # A worker's death: %replay re-runs its call; it left no frames for %debug.
        _last[:] = [exc]
        return
    if not isinstance(exc, BaseException) or not _has_note(exc):
        return
    _last[:] = [exc]
    try:
        captured = prepare(exc)
    except Exception as err:  # never in the way of the user's session
        print(f"dask-replay: %debug shows the client's traceback ({err})", file=sys.stderr)
        return
    if captured is None:
        return
    sys.last_type, sys.last_value, sys.last_traceback = (
        type(captured),
        captured,
        captured.__traceback__,
    )
    print(
        "dask-replay: %debug opens the frames captured on the worker, with their locals",
        file=sys.stderr,
    )


def _has_note(exc: BaseException) -> bool:
    notes = getattr(exc, "__notes__", None) or []
    return any(isinstance(n, str) and _NOTE in n for n in notes)


#: Above this many bytes of captured values, a failed cell does not unpickle them:
#: ``%debug`` would cost that much memory and time after every failing cell.
EAGER_MAX_BYTES = 256 * 2**20


def prepare(exc: BaseException) -> BaseException | None:
    """The worker's exception over a traceback of the captured frames, or None."""
    from ._describe.summary import format_size
    from ._frames import build_traceback
    from ._session.load import load
    from ._sources.live_lines import frozen_frames

    session = load(exc)
    held = _captured_bytes(session.model)
    if held > EAGER_MAX_BYTES:
        print(
            f"dask-replay: the snapshot holds {format_size(held)} of captured values, so %debug "
            "shows the client's traceback; `%replay --frames` opens the frames captured on the "
            "worker, `%replay` re-runs the call",
            file=sys.stderr,
        )
        return None
    session.locate_sources(rerun=False)
    session.install_sources(rerun=False)
    # %debug reads the files later: a file edited in between must not move the arrow.
    tb = build_traceback(frozen_frames(session.frames))
    if tb is None:
        return None
    return session.frames_exception().with_traceback(tb)


def _captured_bytes(model: Any) -> int:
    """The pieces' and buffers' sizes: at most what loading the frames unpickles."""
    total = 0
    for records in (model.pieces, model.buffers):
        for record in (records or {}).values():
            total += record.size if isinstance(record.size, int) and record.size > 0 else 0
    return total
