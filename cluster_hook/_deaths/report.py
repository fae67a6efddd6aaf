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
    report = latest_event(scheduler, EXIT_TOPIC, address)
    arrived = arrivals.setdefault(address, asyncio.Event())
    deadline = time.monotonic() + EXIT_REPORT_WAIT
    while nanny and report is None and time.monotonic() < deadline:
        arrived.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(arrived.wait(), max(0.0, deadline - time.monotonic()))
        report = latest_event(scheduler, EXIT_TOPIC, address)
    why = None
    if report is None:
        report, why = (
            await _ask_nanny(scheduler, str(nanny), address) if nanny else (None, NO_NANNY)
        )
    memory = latest_event(scheduler, MEMORY_EVENT, address)
    return describe_death(record, report, memory, why)


async def _ask_nanny(scheduler: Any, nanny: str, address: str) -> tuple[dict[str, Any] | None, str]:
    """The nanny's report, asked of it; else None and why there is none."""
    try:
        reply = await asyncio.wait_for(
            scheduler.rpc(nanny).run(
                function=dumps(exit_report), args=dumps((address,)), wait=True
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


def latest_event(scheduler: Any, topic: str, address: str) -> dict[str, Any] | None:
    """The newest event on ``topic`` about the worker at ``address``."""
    for _, msg in reversed(scheduler.get_events(topic)):
        if isinstance(msg, dict) and msg.get("worker") == address:
            return msg
    return None
