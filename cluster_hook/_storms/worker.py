"""The worker's part: ask the scheduler for a snapshot slot, briefly, from the failing thread.

One round trip on the failure path only.  It is bounded (``ASK_TIMEOUT``):
a busy or unreachable scheduler never stalls a failing task; the capture
then applies the worker's own directory budget and says so in the snapshot.
A task running on the worker's event loop (an ``async def`` task) cannot
wait for the loop it blocks: it uses its own directory's budget.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from distributed.utils import sync

from snapshot import Admission

from .._names import BUDGET_METADATA, STORM_HANDLER

if TYPE_CHECKING:
    from distributed import Worker

#: Seconds a failing task waits for the scheduler's answer.
ASK_TIMEOUT = 2.0


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

    def __call__(self, fingerprint: str) -> Admission | None:
        worker = self._worker
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
        where = f"; written: {', '.join(places)}" if places else ""
        return Admission(
            False,
            occurrence,
            f"{self._limit} snapshot(s) of this failure already written in the cluster "
            f"(fingerprint {fingerprint}, failure {occurrence} in the cluster; "
            f"snapshot.max-per-fingerprint){where}",
            scope="cluster",
        )


def _on_loop(worker: Worker) -> bool:
    """True in the thread running the worker's event loop (where ``sync`` would deadlock)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return running is getattr(worker.loop, "asyncio_loop", None)
