"""The run_spec wrapper: a try block around the task, a snapshot in the except.

distributed 2026.8 runs a task as ``ts.run_spec(data)`` in
``_run_task_simple`` (thread pool) or ``await ts.run_spec(data)`` in
``_run_task_async`` (``run_spec.is_coro``); both catch ``BaseException``.  The
plugin swaps ``ts.run_spec`` for a :class:`CapturingTask` just before the task
executes.  Our ``except`` runs first, in the task's own thread, with the live
traceback (frames and their locals) and the resolved inputs in hand; the
capture core writes the snapshot and adds a note, and the very same exception
object is re-raised, so the worker reports it exactly as it would have.  A
task that succeeds pays for one ``try`` block and one extra call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from snapshot import CaptureOutcome, Capturer, drop_own_frame, passes_through


def _passes_through(exc: BaseException) -> bool:
    """Exceptions that are not task failures and are never captured."""
    # The core's (interpreter exits; the cancellation the worker itself sends to
    # async tasks on close, which it reschedules instead of failing them) and
    # distributed.Reschedule, which asks the scheduler to run the task elsewhere.
    if passes_through(exc):
        return True
    return type(exc).__name__ == "Reschedule" and type(exc).__module__.startswith("distributed")


class CapturingTask:
    """Stands in for a ``GraphNode``: forwards everything, captures failures."""

    __slots__ = ("_capturer", "_orig")
    #: What the worker asks of every task it runs: answered here, not through
    #: ``__getattr__``, whose failed lookup first costs about 7,000 instructions.
    is_coro = False

    def __init__(self, orig: Any, capturer: Capturer) -> None:
        self._orig = orig
        self._capturer = capturer

    @property
    def wrapped(self) -> Any:
        """The original run_spec."""
        return self._orig

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not defined here: key, is_coro, dependencies, ...
        if name in CapturingTask.__slots__:  # not yet set: never recurse
            raise AttributeError(name)
        return getattr(self._orig, name)

    def __repr__(self) -> str:
        return repr(self._orig)

    def __sizeof__(self) -> int:
        return self._orig.__sizeof__()

    def __reduce__(self) -> tuple[Any, ...]:
        # Shipped elsewhere (a ProcessPoolExecutor, a cluster dump), a task is its
        # plain original: the capture machinery stays on this worker.
        return (_identity, (self._orig,))

    def __call__(self, data: Mapping[Any, Any]) -> Any:
        try:
            return self._orig(data)
        except BaseException as exc:
            # First: the capture (in another thread) must see the traceback as
            # the worker reports it, and never one that changes under it.
            drop_own_frame(exc, _OWN_CODES)
            if not _passes_through(exc):
                self._capturer.report(exc, self._capturer.capture(exc, self._orig, data))
            raise


class CapturingCoroutineTask(CapturingTask):
    """The wrapper for ``async def`` tasks (``run_spec.is_coro``), which the
    worker awaits on its event loop."""

    __slots__ = ()
    is_coro = True

    def __call__(self, data: Mapping[Any, Any]) -> Any:
        return self._acall(data)

    async def _acall(self, data: Mapping[Any, Any]) -> Any:
        try:
            return await self._orig(data)
        except BaseException as exc:
            drop_own_frame(exc, _OWN_CODES)
            if not _passes_through(exc):
                # An async task runs on the worker's event loop; the capture
                # pickles and writes files, so it goes to a thread instead.
                try:
                    outcome = await _in_thread(self._capturer.capture, exc, self._orig, data)
                except Exception as err:  # e.g. the loop's executor is shut down
                    self._capturer.warn("could not capture an async task's failure: %s", err)
                else:
                    self._capturer.report(exc, outcome)
            raise


def wrap(run_spec: Any, capturer: Capturer) -> CapturingTask:
    """The wrapper that fits ``run_spec`` (chosen once, so a call tests nothing)."""
    if run_spec.is_coro:
        return CapturingCoroutineTask(run_spec, capturer)
    return CapturingTask(run_spec, capturer)


def _identity(obj: Any) -> Any:
    return obj


def _in_thread(func: Any, *args: Any) -> Awaitable[CaptureOutcome]:
    return asyncio.get_running_loop().run_in_executor(None, func, *args)


_OWN_CODES = frozenset({CapturingTask.__call__.__code__, CapturingCoroutineTask._acall.__code__})
