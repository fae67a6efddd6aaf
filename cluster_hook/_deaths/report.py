"""How a worker died, as the scheduler learns it: the nanny's report, awaited by its arrival.

The nanny publishes its exit report (:mod:`cluster_hook._deaths.nanny`) on the
``dask-replay-worker-exit`` topic; :class:`~cluster_hook._deaths.scheduler.DeathWatch`
sets an :class:`asyncio.Event` per dead worker's address when one arrives, and
:func:`how_it_died` waits on it, at most ``EXIT_REPORT_WAIT`` seconds (it
usually comes in well under one).  A report that did not come is asked of the
nanny itself (``Nanny.run`` of :func:`~cluster_hook._deaths.nanny.exit_report`,
which keeps its latest reports).  A worker without a nanny: the death says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import Any

from distributed.protocol.pickle import dumps

from .._names import EXIT_TOPIC, MEMORY_EVENT
from .cause import describe_death
from .nanny import exit_report

#: At most this long to wait for the nanny's exit report after the scheduler saw
#: the death (it usually arrives in well under a second; a loaded host is slower).
EXIT_REPORT_WAIT = 30.0
#: At most this long for the nanny to answer when asked for its report directly.
NANNY_ASK_WAIT = 5.0

NO_NANNY = (
    "the worker had no nanny (dask worker --no-nanny, or an in-process worker): "
    "nothing saw how its process ended"
)


async def how_it_died(
    scheduler: Any, record: Mapping[str, Any], arrivals: dict[str, asyncio.Event]
) -> dict[str, Any]:
    """The manifest's ``death`` section for ``record``, from the nanny's report."""
    dead = record["dead"]
    address = dead["worker"]
    nanny = dead.get("nanny")
    since = record.get("registered")

    def find() -> dict[str, Any] | None:
        # A nanny runs one worker at a time: its first exit report after this
        # worker registered is this worker's, under its address or a stale one.
        return first_after(scheduler, EXIT_TOPIC, "worker", address, since or 0.0) or (
            first_after(scheduler, EXIT_TOPIC, "nanny", nanny, since) if since else None
        )

    report = find()
    arrived = arrivals.setdefault(address, asyncio.Event())
    deadline = time.monotonic() + EXIT_REPORT_WAIT
    while nanny and report is None and time.monotonic() < deadline:
        arrived.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(arrived.wait(), max(0.0, deadline - time.monotonic()))
        report = find()
    why = None
    if report is None and nanny:
        report, why = await _ask_nanny(scheduler, str(nanny), address, since)
    elif report is None:
        why = NO_NANNY
    # The nanny's memory kill names the worker's pid (its address may be stale).
    memory = first_after(scheduler, MEMORY_EVENT, "worker", address, since or 0.0) or (
        first_after(scheduler, MEMORY_EVENT, "pid", dead.get("pid"), since) if since else None
    )
    return describe_death(record, report, memory, why)


async def _ask_nanny(
    scheduler: Any, nanny: str, address: str, since: float | None
) -> tuple[dict[str, Any] | None, str]:
    """The nanny's report, asked of it; else None and why there is none."""
    try:
        reply = await asyncio.wait_for(
            scheduler.rpc(nanny).run(
                function=dumps(exit_report), args=dumps((address, since)), wait=True
            ),
            NANNY_ASK_WAIT,
        )
    except Exception as err:
        return None, (
            f"its nanny {nanny} sent no exit report within {EXIT_REPORT_WAIT:.0f} s and "
            f"did not answer when asked ({type(err).__name__}): it may have died too"
        )
    result = reply.get("result") if isinstance(reply, dict) else None
    if isinstance(reply, dict) and reply.get("status") == "OK" and isinstance(result, dict):
        return result, ""
    return None, (
        f"its nanny {nanny} has no report of its exit (the process ended with status 0, "
        "or the nanny was closing it)"
    )


def first_after(
    scheduler: Any, topic: str, field: str, value: Any, since: float | None
) -> dict[str, Any] | None:
    """The first event on ``topic`` with ``field == value`` published at or after ``since``.

    A nanny runs one worker at a time: its first exit report (or memory kill
    of that pid) after the worker registered is that worker's.
    """
    if value is None or since is None:
        return None
    for stamp, msg in scheduler.get_events(topic):
        if stamp >= since and isinstance(msg, dict) and msg.get(field) == value:
            return msg
    return None
