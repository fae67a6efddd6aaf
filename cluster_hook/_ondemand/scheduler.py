"""The scheduler's part of a capture asked for: the task's run_spec, where its values are, a writer.

:func:`capture_on_scheduler` runs on the scheduler (``Client.run_on_scheduler``):
the scheduler alone holds the task's run_spec (``TaskState.run_spec``) and
knows who holds its inputs and its result (``TaskState.who_has``).  A task
that has yet to run is waited for (its inputs wanted meanwhile under a client
id of our own, as a client's futures want keys, so that they stay in memory
once it has run); inputs already released are recomputed from their lineage
(:mod:`cluster_hook._lineage.recover`, within its bounds).  The run_spec then
goes to the worker holding the most of what the snapshot needs, through its
``run`` handler (:func:`cluster_hook._ondemand.writer.write_on_demand`), as a
death snapshot's does: large values never pass through the scheduler or the
client.  Refusals come back as ``{"error": why, "kind": ...}``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from distributed.protocol.pickle import dumps

from .._config import ConfigError, Settings
from .._lineage.pins import scheduler_pins
from .._lineage.recover import Recovery, recover, release, wait_recovered
from .._names import ONDEMAND_CLIENT, RECOVER_CLIENT
from .._runreply import run_result
from .writer import write_on_demand

__all__ = ["capture_on_scheduler"]

#: Seconds a pending future's key may take to reach the scheduler after the call.
ARRIVAL_WAIT = 10.0
#: Scheduler states of a task that has yet to run (or is running).
PENDING = ("released", "waiting", "queued", "processing", "no-worker")


def _max_object_size(settings: dict[str, Any]) -> int | None:
    """``snapshot.max-object-size`` as the scheduler's config (and ``settings``) say: a
    released input larger than this is not computed again, as for a death."""
    try:
        return Settings.from_config(settings).max_object_size
    except ConfigError:
        return None


async def capture_on_scheduler(
    key: Any,
    client_id: str,
    settings: dict[str, Any],
    timeout: float,
    in_flight: bool = False,
    dask_scheduler: Any = None,
) -> dict[str, Any]:
    """Runs on the scheduler: have a worker write the snapshot of ``key``; where it is.

    ``in_flight``: the key is a pending future's, whose graph the client may still be
    sending (it travels on the client's batched stream, this call on a connection of its
    own): wait a moment for it rather than call it unknown.
    """
    scheduler = dask_scheduler
    deadline = time.monotonic() + timeout
    ts = scheduler.tasks.get(key)
    arrival = min(deadline, time.monotonic() + ARRIVAL_WAIT)
    while ts is None and in_flight and time.monotonic() < arrival:
        await asyncio.sleep(0.01)
        ts = scheduler.tasks.get(key)
    if ts is None:
        return _refused("unknown", "the scheduler does not know it (forgotten, or never sent)")
    if ts.run_spec is None:
        return _refused("scattered", "it is scattered data, not a task: there is no call")
    pending = ts.state in PENDING
    pins = scheduler_pins(scheduler, ONDEMAND_CLIENT)
    pinned = pins.want([dts.key for dts in ts.dependencies])
    recovery = Recovery(RECOVER_CLIENT)
    try:
        if pending:
            why = await _wait_done(scheduler, key, deadline, timeout)
            if why is not None:
                return _refused("pending", why)
        ts = scheduler.tasks[key]
        if ts.state == "erred" and ts.exception_blame is not ts:
            blamed = getattr(ts.exception_blame, "key", None)
            return _refused(
                "blamed",
                f"it did not run: its input {blamed!r} failed; capture the future of "
                f"{blamed!r} instead",
            )
        state = "failed" if ts.state == "erred" else "pending" if pending else "finished"
        lost = [dts.key for dts in ts.dependencies if not dts.who_has]
        recovery = recover(
            scheduler,
            lost,
            client=RECOVER_CLIENT,
            max_bytes=_max_object_size(settings),
        )
        if recovery.recomputing:
            await wait_recovered(scheduler, recovery, max(0.0, deadline - time.monotonic()))
        if recovery.missing:
            dep, why = next(iter(recovery.missing.items()))
            return _refused("lost", f"its input {dep!r} is released and {why}")
        record = _record(scheduler, ts, state, client_id, settings)
        record["recomputed"] = {k: recovery.recomputing[k] for k in recovery.holders}
        writer = _choose_writer(scheduler, record["who_has"], record["nbytes"])
        if writer is None:
            return _refused(
                "workers",
                "no running worker is left to write it (they are paused, closing or gone); "
                "capture again once one is running",
            )
        return await _write(scheduler, record, writer, timeout)
    finally:
        pins.unwant(pinned)
        release(scheduler, recovery)


async def _write(
    scheduler: Any, record: dict[str, Any], writer: str, timeout: float
) -> dict[str, Any]:
    """Have ``writer`` write the snapshot, within ``timeout`` seconds of asking it (its own
    bound: a capture that waited its whole timeout for the task still has that long)."""
    message = {
        "op": "run",
        "function": dumps(write_on_demand),
        "args": dumps((record,)),
        "wait": True,
    }
    asked = scheduler.broadcast(msg=message, workers=[writer], on_error="return")
    try:
        replies = await asyncio.wait_for(asked, timeout)
    except TimeoutError:
        return _refused(
            "writing",
            f"the worker {writer} did not write it within timeout={timeout:g} s (it may "
            "still be writing it into its snapshot.directory); capture again with a larger "
            "timeout, or see that worker's log",
        )
    return _reply(replies.get(writer), writer)


async def _wait_done(scheduler: Any, key: Any, deadline: float, timeout: float) -> str | None:
    """Wait until ``key`` has run (``memory`` or ``erred``) until ``deadline``; why not, else None."""
    while True:
        ts = scheduler.tasks.get(key)
        if ts is None or ts.state == "forgotten":
            return "it was released before it ran (its future was cancelled or dropped)"
        if ts.state in ("memory", "erred"):
            return None
        if not ts.who_wants and ts.state == "released":
            return "nothing wants it: it will not run (keep its future until it has run)"
        if time.monotonic() >= deadline:
            return (
                f"it has not run within timeout={timeout:g} s (state {ts.state!r}); capture "
                "it again once it has, or with a larger timeout"
            )
        await asyncio.sleep(0.05)


def _record(
    scheduler: Any, ts: Any, state: str, client_id: str, settings: dict[str, Any]
) -> dict[str, Any]:
    held = [*ts.dependencies, ts] if state != "failed" else list(ts.dependencies)
    who_has = {t.key: sorted(ws.address for ws in t.who_has or ()) for t in held}
    return {
        "key": ts.key,
        "state": state,
        "run_spec": ts.run_spec,
        "prefix": ts.prefix.name,
        "dependencies": [dts.key for dts in ts.dependencies],
        "annotations": dict(ts.annotations or {}),
        "priority": list(ts.priority) if ts.priority is not None else None,
        "who_has": who_has,
        "nbytes": {t.key: int(t.get_nbytes()) for t in held},
        "exception": ts.exception if state == "failed" else None,
        "exception_text": ts.exception_text if state == "failed" else None,
        "traceback_text": ts.traceback_text if state == "failed" else None,
        "client": client_id,
        "time": time.time(),
        "settings": settings,
    }


def _choose_writer(
    scheduler: Any, who_has: dict[Any, list[str]], nbytes: dict[Any, int]
) -> str | None:
    """The running worker holding the most bytes of the values (the fewest to move)."""
    running = [
        a for a, ws in scheduler.workers.items() if getattr(ws.status, "name", "") == "running"
    ]
    if not running:
        return None
    held: Counter[str] = Counter()
    for key, holders in who_has.items():
        for address in holders:
            held[address] += max(1, nbytes.get(key, 0))
    return max(running, key=lambda a: (held[a], a))


def _reply(reply: Any, writer: str) -> dict[str, Any]:
    if isinstance(reply, OSError):  # CommClosedError: the connection to it was lost
        return _refused(
            "writer",
            f"the worker {writer} closed or went away while writing it "
            f"({type(reply).__name__}); capture again",
        )
    result, failed = run_result(reply)
    if failed is None and isinstance(result, dict) and result.get("error"):
        return _refused("writer", str(result["error"]))
    if failed is None and isinstance(result, dict):
        return result
    return _refused("writer", f"the worker {writer} could not write it: {failed or result}")


def _refused(kind: str, why: str) -> dict[str, Any]:
    return {"error": why, "kind": kind}
