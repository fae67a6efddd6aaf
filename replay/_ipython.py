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
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_NOTE = "dask-replay: snapshot written to "


def load_ipython_extension(shell: Any) -> None:
    """Register the ``post_run_cell`` handler (once)."""
    if _after_cell not in shell.events.callbacks.get("post_run_cell", []):
        shell.events.register("post_run_cell", _after_cell)


def unload_ipython_extension(shell: Any) -> None:
    if _after_cell in shell.events.callbacks.get("post_run_cell", []):
        shell.events.unregister("post_run_cell", _after_cell)


def _after_cell(result: Any) -> None:
    exc = getattr(result, "error_in_exec", None)
    if not isinstance(exc, BaseException) or not _has_note(exc):
        return
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


def prepare(exc: BaseException) -> BaseException | None:
    """The worker's exception over a traceback of the captured frames, or None."""
    from ._session import load

    session = load(exc)
    session.locate_sources(rerun=False)
    session.install_sources(rerun=False)
    tb = session.traceback()
    if tb is None:
        return None
    return session.frames_exception().with_traceback(tb)
