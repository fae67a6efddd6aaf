"""Lost keys recomputed from lineage the way Dask recovers lost data: one mechanism to call.

The scheduler still holds the run_spec and the dependencies of a key whose
only copy died with a worker (``Scheduler.remove_worker`` recommends
``released`` for it; ``_transition_memory_released`` recommends ``waiting``
again when a client wants it).  :func:`recover` wants such keys under a
client id of the caller's (``Scheduler.client_desires_keys``, as a client's
futures do), so the scheduler recomputes them on a surviving worker, their
own lost dependencies first; it first walks their lineage and refuses, naming
why, what is over its bounds (depth, task count, last known size, expected
time) or impossible (scattered data, a lost dependency).  :func:`wait_recovered`
waits, within a bound, until they are in memory; :func:`release` lets them go.

Usage, on the scheduler's event loop (a death, or a capture asked for a
future whose inputs are gone)::

    recovery = recover(scheduler, keys, client="my-client-id")
    holders = await wait_recovered(scheduler, recovery, timeout=30)
    ...  # gather the values from ``holders``; ``recovery.missing`` says what is not
    release(scheduler, recovery)

Called from ``SchedulerPlugin.log_event`` on the ``remove-worker`` event, the
keys are still ``memory`` with no holder and the worker's removal sends them to
``waiting``; called later, on ``released`` keys, :func:`recover` asks for that
transition itself.  A recomputed value comes from running the task again: an
impure task (random numbers, the clock, I/O) may give another value, which
:data:`IMPURE_NOTE` says wherever it is shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .pins import scheduler_pins

#: Levels of lost dependencies walked below a key before giving up on it.
MAX_DEPTH = 8
#: Tasks recomputed at most for one key (itself and its lost dependencies).
MAX_TASKS = 64
#: At most this share of the smallest surviving worker's memory limit per key.
MEMORY_SHARE = 0.25
#: Seconds a recomputation may be expected to take (TaskPrefix.duration_average).
MAX_SECONDS = 30.0

IMPURE_NOTE = "recomputed from its task; an impure task (random numbers, the clock, I/O) may differ"


@dataclass
class Recovery:
    """What :func:`recover` set under way: keys being recomputed, and those that cannot be."""

    client: str
    #: key -> how it is recomputed: ``function``, ``from`` (its dependencies),
    #: ``tasks`` (how many tasks run again), ``by``.
    recomputing: dict[Any, dict[str, Any]] = field(default_factory=dict)
    #: key -> why it cannot be recomputed (or did not come back in time).
    missing: dict[Any, str] = field(default_factory=dict)
    #: key -> its holders, once in memory (filled by :func:`wait_recovered`).
    holders: dict[Any, list[str]] = field(default_factory=dict)


def recover(
    scheduler: Any,
    keys: Iterable[Any],
    *,
    client: str,
    max_bytes: int | None = None,
    max_seconds: float = MAX_SECONDS,
    worker_memory: int | None = None,
) -> Recovery:
    """Have the scheduler recompute ``keys`` (lost: in memory nowhere) within bounds.

    Synchronous and bounded (a walk of at most ``MAX_TASKS`` per key): call it
    on the scheduler's event loop.  ``max_bytes`` caps a key's last known size
    (``snapshot.max-object-size`` for a snapshot's input), on top of
    ``MEMORY_SHARE`` of the smallest surviving worker's memory limit, or of
    ``worker_memory`` (a dead worker's: all may be restarting at once).
    """
    recovery = Recovery(client)
    wanted = []
    for key in keys:
        why, lineage = _plan(scheduler, key, max_bytes, max_seconds, worker_memory)
        if why is not None:
            recovery.missing[key] = why
            continue
        ts = scheduler.tasks[key]
        recovery.recomputing[key] = {
            "function": _function_name(ts),
            "from": [dts.key for dts in ts.dependencies],
            "tasks": len(lineage),
            "by": "the scheduler, on a surviving worker",
        }
        wanted.append(key)
    if wanted:
        scheduler_pins(scheduler, client).want(wanted)
        released = {k: "waiting" for k in wanted if scheduler.tasks[k].state == "released"}
        if released:
            scheduler.transitions(released, stimulus_id=f"dask-replay-recover-{time.time()}")
    return recovery


async def wait_recovered(
    scheduler: Any, recovery: Recovery, timeout: float
) -> dict[Any, list[str]]:
    """Wait until every recomputing key is in memory, at most ``timeout`` seconds.

    Returns their holders (also in ``recovery.holders``); a key that did not
    come back moves to ``recovery.missing`` with the reason.
    """
    deadline = time.monotonic() + timeout
    pending = set(recovery.recomputing) - set(recovery.holders)
    while True:
        for key in list(pending):
            ts = scheduler.tasks.get(key)
            holders = sorted(ws.address for ws in (ts.who_has or ())) if ts is not None else []
            if holders:
                recovery.holders[key] = holders
                pending.discard(key)
            elif ts is None or ts.state in ("erred", "forgotten"):
                state = "forgotten" if ts is None else ts.state
                recovery.missing[key] = f"its recomputation failed (the task is {state})"
                pending.discard(key)
            elif ts.state == "no-worker" and _nowhere_to_run(scheduler, ts):
                recovery.missing[key] = (
                    "its task may run only on workers that are gone (workers= restrictions)"
                )
                pending.discard(key)
        if not pending or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    for key in pending:
        recovery.missing[key] = f"its recomputation did not finish within {timeout:.0f} s"
    return dict(recovery.holders)


def still_held(scheduler: Any, recovery: Recovery) -> dict[Any, list[str]]:
    """The holders of the recomputed keys now (a holder may have died since)."""
    now = {}
    for key in recovery.holders:
        ts = scheduler.tasks.get(key)
        holders = sorted(ws.address for ws in (ts.who_has or ())) if ts is not None else []
        if holders:
            now[key] = holders
    return now


def release(scheduler: Any, recovery: Recovery) -> None:
    """Stop wanting the keys :func:`recover` wanted (once per call to it)."""
    if recovery.recomputing:
        scheduler_pins(scheduler, recovery.client).unwant(recovery.recomputing)


def _plan(
    scheduler: Any, key: Any, max_bytes: int | None, max_seconds: float, worker_memory: int | None
) -> tuple[str | None, list[Any]]:
    """Why ``key`` cannot be recomputed (None if it can), and the tasks that would run."""
    ts = scheduler.tasks.get(key)
    if ts is None:
        return "the scheduler has forgotten it", []
    if ts.run_spec is None:
        return "it was scattered data, not a task: nothing to recompute it from", []
    limit = _memory_cap(scheduler, max_bytes, worker_memory)
    size = int(getattr(ts, "nbytes", -1) or -1)
    if limit is not None and size > limit[0]:
        return f"its last known size, {_mib(size)}, is over {limit[1]}", []
    lineage: list[Any] = []
    seconds = 0.0
    stack = [(ts, 0)]
    seen: set[int] = set()
    while stack:
        current, depth = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current is not ts and current.who_has:
            continue  # held by a live worker: fetched, not recomputed
        if current.run_spec is None:
            return f"its input {current.key!r} was scattered data held only by a dead worker", []
        if depth > MAX_DEPTH:
            return f"its lost lineage is deeper than {MAX_DEPTH} tasks", []
        lineage.append(current)
        if len(lineage) > MAX_TASKS:
            return f"its lost lineage has more than {MAX_TASKS} tasks", []
        duration = float(getattr(current.prefix, "duration_average", -1) or -1)
        seconds += max(duration, 0.0)
        stack.extend((dts, depth + 1) for dts in current.dependencies)
    if seconds > max_seconds:
        return f"recomputing it would take about {seconds:.0f} s (over {max_seconds:.0f} s)", []
    return None, lineage


def _memory_cap(
    scheduler: Any, max_bytes: int | None, worker_memory: int | None
) -> tuple[int, str] | None:
    limits = [
        int(ws.memory_limit) for ws in scheduler.workers.values() if getattr(ws, "memory_limit", 0)
    ]
    if worker_memory:
        limits.append(int(worker_memory))
    caps = []
    if limits:
        share = int(min(limits) * MEMORY_SHARE)
        caps.append((share, f"{MEMORY_SHARE:.0%} of a worker's memory limit ({_mib(share)})"))
    if max_bytes:
        caps.append((int(max_bytes), f"snapshot.max-object-size ({_mib(int(max_bytes))})"))
    return min(caps) if caps else None


def _nowhere_to_run(scheduler: Any, ts: Any) -> bool:
    """Whether ``ts`` is restricted to workers (addresses or names) none of which is alive."""
    if getattr(ts, "loose_restrictions", False):
        return False
    allowed = set(getattr(ts, "worker_restrictions", None) or ())
    alive = set(scheduler.workers) | set(getattr(scheduler, "aliases", None) or ())
    return bool(allowed) and not allowed & alive


def _function_name(ts: Any) -> str:
    func = getattr(ts.run_spec, "func", None)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return str(name) if name else str(ts.prefix.name)


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"
