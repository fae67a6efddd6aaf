"""The worker's part: ask the scheduler for a snapshot slot, briefly, from the failing thread.

A failure asks on the failure path only, with one round trip bounded by
``ASK_TIMEOUT``: a busy or unreachable scheduler never stalls a failing task;
the capture then applies the worker's own directory budget and says so in the
snapshot.  A task running on the worker's event loop (an ``async def`` task)
cannot wait for the loop it blocks: it uses its own directory's budget.

A budget only ever runs out, so once the scheduler has said that a
fingerprint's snapshots are written (and where), this worker stops asking
about it: each further failure is counted here, and the counts go to the
scheduler on the worker's batched stream at most every ``FLUSH_EVERY``
seconds, one fire-and-forget message for all of them.  A storm costs a round
trip per worker for its first few failures, and nothing that waits after that.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from distributed.utils import sync

from snapshot import Admission

from .._names import BUDGET_METADATA, STORM_COUNT_HANDLER, STORM_HANDLER

if TYPE_CHECKING:
    from distributed import Worker

#: Seconds a failing task waits for the scheduler's answer.
ASK_TIMEOUT = 2.0
#: Fingerprints whose budget this worker knows to be spent; beyond, it asks again.
MAX_SPENT = 10_000
#: Seconds between two messages of counts to the scheduler.
FLUSH_EVERY = 0.2


async def scheduler_has_budget(worker: Worker) -> bool:
    """Whether this cluster's scheduler runs ``StormBudget`` (asked once, at setup)."""
    try:
        reply = await worker.scheduler.get_metadata(keys=list(BUDGET_METADATA), default=None)
    except Exception:
        return False
    return bool(reply == STORM_HANDLER)


class ClusterAdmission:
    """``StormGuard``'s cluster admission for one worker: the scheduler's answer, or None."""

    def __init__(self, worker: Worker, limit: int, timeout: float = ASK_TIMEOUT) -> None:
        self._worker = worker
        self._limit = limit
        self._timeout = timeout
        # fingerprint -> where its written snapshots are, once the budget is spent.
        self._spent: dict[str, list[str]] = {}
        # Failures of spent budgets not yet sent; a flush is scheduled while any are.
        self._unsent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, fingerprint: str) -> Admission | None:
        worker = self._worker
        places = self._spent.get(fingerprint)
        if places is not None:
            with self._lock:
                first = not self._unsent
                self._unsent[fingerprint] += 1
            if first:
                try:  # thread-safe; the failing thread never waits for the scheduler
                    worker.loop.add_callback(worker.loop.call_later, FLUSH_EVERY, self._flush)
                except Exception:
                    return None
            return self._refused(fingerprint, None, places)
        if _on_loop(worker):
            return None
        ask = getattr(worker.scheduler, STORM_HANDLER)
        try:
            reply: Any = sync(
                worker.loop,
                ask,
                fingerprint=fingerprint,
                limit=self._limit,
                worker=str(worker.address),
                callback_timeout=self._timeout,
            )
        except Exception:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("occurrence"), int):
            return None
        occurrence = reply["occurrence"]
        if reply.get("admitted"):
            return Admission(True, occurrence, scope="cluster")
        places = [str(p) for p in reply.get("places") or ()][:3]
        if places and len(self._spent) < MAX_SPENT:
            self._spent[fingerprint] = places  # from now on: counted, never asked
        return self._refused(fingerprint, occurrence, places)

    def _flush(self) -> None:
        """On the worker's loop: the counts gathered since the last flush, in one message."""
        with self._lock:
            counts, self._unsent = dict(self._unsent), Counter()
        if counts:
            self._worker.batched_send({"op": STORM_COUNT_HANDLER, "counts": counts})

    def _refused(self, fingerprint: str, occurrence: int | None, places: list[str]) -> Admission:
        which = f", failure {occurrence} in the cluster" if occurrence else ""
        where = f"; written: {', '.join(places)}" if places else ""
        return Admission(
            False,
            occurrence or 0,
            f"{self._limit} snapshot(s) of this failure already written in the cluster "
            f"(fingerprint {fingerprint}{which}; snapshot.max-per-fingerprint){where}",
            scope="cluster",
        )


def _on_loop(worker: Worker) -> bool:
    """True in the thread running the worker's event loop (where ``sync`` would deadlock)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return running is getattr(worker.loop, "asyncio_loop", None)
