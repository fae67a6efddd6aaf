"""The wrapper: a try block around the call, a snapshot in the except, the same exception raised.

The ``except`` runs in the failing thread, with the live traceback (frames and
their locals) and the arguments in hand; it writes the snapshot
(:meth:`Capturer.capture`), adds a note, and re-raises the very same
exception object, so the caller sees exactly what it would have.  A call that
succeeds pays for one ``try`` block and one extra call.  The Dask hook's
run_spec wrapper (``cluster_hook._wrapper``) is built from the same parts.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Collection
from types import CodeType
from typing import Any

from .capturer import Capturer


def passes_through(exc: BaseException) -> bool:
    """Interpreter shutdown and task cancellation: never failures, never captured."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | asyncio.CancelledError)


def drop_own_frame(exc: BaseException, own: Collection[CodeType]) -> None:
    """Remove the wrapper's frame (code in ``own``) from the traceback's head.

    A bare ``raise`` re-raises with ``exc.__traceback__`` as it stands and adds
    no entry for the wrapper's frame: the caller's traceback is then exactly
    what it would be without the wrapper, and the capture sees that one.
    """
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code in own:
        exc.__traceback__ = tb.tb_next


class CapturingCall:
    """``func`` that writes a snapshot of each failure, then raises it unchanged.

    ``capture_failures(capturer)(func)`` makes one; the snapshot's call is
    ``func(*args, **kwargs)`` as it was called.
    """

    __slots__ = ("__wrapped__", "_capturer")

    def __init__(self, func: Callable[..., Any], capturer: Capturer) -> None:
        self.__wrapped__ = func
        self._capturer = capturer

    def __repr__(self) -> str:
        return f"<capturing {self.__wrapped__!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.__wrapped__(*args, **kwargs)
        except BaseException as exc:
            drop_own_frame(exc, _OWN_CODES)
            if not passes_through(exc):
                call = functools.partial(self.__wrapped__, *args, **kwargs)
                self._capturer.report(exc, self._capturer.capture(exc, call))
            raise


def capture_failures(capturer: Capturer) -> Callable[[Callable[..., Any]], CapturingCall]:
    """A decorator: each failure of the decorated function is written by ``capturer``."""

    def decorate(func: Callable[..., Any]) -> CapturingCall:
        return CapturingCall(func, capturer)

    return decorate


_OWN_CODES = frozenset({CapturingCall.__call__.__code__})
