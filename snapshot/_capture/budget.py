"""The time and memory budget of one capture: a helper thread, a bounded wait.

The capture (pickling, compressing, writing) runs in a helper thread while the
task's thread waits for it with a timeout (``capture_timeout``) and
watches the process's RSS (:class:`~snapshot._capture.memory.MemoryGuard`).  A
``__getstate__`` that blocks forever then holds the helper thread, never the
task's: past the budget the task's thread stops waiting and the exception is
reported.

What the helper thread may touch once the task's thread has moved on: the
exception, the frames of its traceback (finished frames; their locals are only
read) and the inputs stay referenced by the helper thread, which reads and
pickles them but never mutates them (the redactor copies what it changes).
The traceback keeps growing as the exception propagates through the worker's
frames, which are live: the locals policy only reads frames that were in the
traceback when the capture started, and the output of an abandoned capture is
discarded anyway.

Beside the total, a stall budget (``stall_timeout``, ``snapshot.capture-stall-timeout``):
while objects are pickled (where their own ``__reduce__``, ``__getstate__``
and ``__repr__`` run), the builder counts its work (each object reduced, each
64 KiB of pickle, each buffer, each piece finished: ``builder.progress``); a
count that stays the same that long cancels the capture as the total budget
does.  A large object pickled honestly ticks all the time; the writing of the
file (our own code over bytes already capped: compression, disk, fsync) is
bounded by the total alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .memory import MemoryGuard

if TYPE_CHECKING:
    from .._write.builder import SnapshotBuilder

#: How often the waiting task thread looks at the RSS (the nanny: every 100 ms).
POLL = 0.02
#: How often the waiting task thread looks at the capture's progress (stall budget).
STALL_POLL = 0.1
#: After the budget, how long a cancelled capture may take to write what it has.
GRACE = 0.5


class CaptureJob:
    """One capture running in its helper thread, and what the task thread knows of it."""

    def __init__(
        self,
        work: Callable[[CaptureJob], Any],
        *,
        on_abandon: Callable[[], None] = lambda: None,
        on_end: Callable[[], None] = lambda: None,
    ) -> None:
        self._work = work
        self._on_abandon = on_abandon  # the task's thread gave up: one more stuck capture
        self._on_end = on_end  # an abandoned capture ended after all
        self._lock = threading.Lock()
        self.cancel = threading.Event()  # handed to the builder: stops its pickling
        self.done = threading.Event()
        self.stage = "the start of the capture"
        self.watched = True  # the stall budget applies (pickling); False once writing
        self.steps = 0  # stages reached: progress beside the builder's own count
        self.reason: str | None = None  # why it was cancelled
        self.abandoned = False  # the task's thread gave up waiting
        self.builder: SnapshotBuilder | None = None  # set by the capture thread
        self.result: Any = None
        self.error: BaseException | None = None

    # -- in the capture thread ---------------------------------------------
    def checkpoint(self, stage: str, *, watched: bool = True) -> None:
        """Record what is being captured now (named when the budget runs out).

        ``watched=False``: from here on only our own code runs (the writing), and
        the stall budget no longer applies.  Cancelling needs no check here:
        the builder stops at its next write.
        """
        self.stage = stage
        self.watched = watched
        self.steps += 1  # a stage reached is progress too (reading sources, scrubbing)

    def run(self) -> None:
        try:
            self.result = self._work(self)
        except BaseException as err:  # reported by the waiting side, never raised
            self.error = err
        finally:
            with self._lock:
                self.done.set()
                abandoned = self.abandoned
            if abandoned:
                self._on_end()

    # -- in the task's thread -----------------------------------------------
    def label(self) -> str:
        """What was being pickled: the builder's own label when it has one."""
        current = self.builder.current_label if self.builder is not None else None
        return str(current) if current else self.stage

    def stop(self, reason: str, short: str | None = None) -> None:
        """Cancel: ``reason`` for the note, ``short`` for the builder's report."""
        if self.reason is None:
            self.reason = reason
            if self.builder is not None:
                # The builder records "capture abandoned: <short>" per piece.
                self.builder.cancel_reason = short or reason
        self.cancel.set()

    def wait(self, timeout: float, guard: MemoryGuard, stall: float | None = None) -> bool:
        """Start the capture thread and wait; True if it ended within its budgets.

        Cancels the capture, keeping what it has written, when the RSS comes
        within the guard's margin of the nanny's threshold.  On timeout, or
        when the pickling has made no progress for ``stall`` seconds, the job
        is cancelled and given :data:`GRACE` to write what it has; if it ends
        in that time it counts as ended, else it is abandoned: whatever it
        produces later is discarded.
        """
        thread = threading.Thread(target=self.run, name="dask-replay-capture", daemon=True)
        thread.start()
        started = time.monotonic()
        deadline = started + timeout
        threshold = guard.threshold
        line = None if threshold is None else threshold - guard.margin
        watch = stall is not None and stall < timeout
        poll = POLL if line is not None else STALL_POLL if watch else None
        ticks, since = -1, started
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                break
            if self.done.wait(min(poll, left) if poll is not None else left):
                return True
            if line is not None and not self.cancel.is_set():
                rss = guard.rss()
                if rss > line:
                    self.stop(f"capture stopped: {guard.describe(rss)}", guard.describe(rss))
            if watch and stall is not None:
                now = time.monotonic()
                builder = self.builder
                current = self.steps + (builder.progress.ticks if builder is not None else 0)
                if current != ticks or not self.watched:
                    ticks, since = current, now
                elif now - since >= stall:
                    return self._give_up(
                        f"the capture was abandoned after {stall:g} s without progress "
                        f"(snapshot.capture-stall-timeout) while capturing {self.label()}",
                        f"snapshot.capture-stall-timeout ({stall:g} s) ran out",
                    )
        return self._give_up(
            f"the capture was abandoned after {timeout:g} s (snapshot.capture-timeout) "
            f"while capturing {self.label()}",
            f"snapshot.capture-timeout ({timeout:g} s) ran out",
        )

    def _give_up(self, reason: str, short: str) -> bool:
        """Cancel, then :data:`GRACE` to write what it has; False if abandoned."""
        self.stop(reason, short)
        if self.done.wait(GRACE):
            return True  # it wrote what it had in time
        with self._lock:
            if self.done.is_set():
                return True
            self.abandoned = True
            self._on_abandon()
        return False
