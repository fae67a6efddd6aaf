"""The scheduler's part: a worker died while running tasks; have their deaths written down.

``Scheduler.remove_worker`` bumps ``TaskState.suspicious`` of every task in
``ws.processing``, marks those past ``distributed.scheduler.allowed-failures``
as erred (with a pickled ``KilledWorker``), and publishes a ``remove-worker``
event on the ``all`` topic *before* it runs the recommendations that would
release the tasks' dependencies.  :meth:`DeathWatch.log_event` acts at that
moment: the run_spec is still there, ``who_has`` of each dependency already
leaves the dead worker out, and the surviving dependencies are pinned
(``Scheduler.client_desires_keys`` under a client id of our own, as a
client's futures pin them) until a surviving worker has written the death
snapshot (:func:`cluster_hook._deaths.writer.write_death_snapshot`, sent with
the worker's ``run`` handler).  A dependency whose only copy died with the
worker is recomputed from its lineage by the scheduler itself
(:func:`cluster_hook._lineage.recover.recover`), within bounds, before the
snapshot is written; the manifest flags it as recomputed.

How the worker died comes from its nanny's exit report
(:mod:`cluster_hook._deaths.nanny`), awaited by its arrival for at most
``EXIT_REPORT_WAIT`` seconds, then asked of the nanny directly.  The client's
``KilledWorker`` is built before any of this and is left exactly as it is.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from distributed import SchedulerPlugin
from distributed.protocol.pickle import dumps

from snapshot import failure_fingerprint

from .._config import ConfigError, Settings
from .._lineage.pins import scheduler_pins
from .._lineage.recover import Recovery, recover, release, wait_recovered
from .._names import DEATHS_PLUGIN_NAME, EXIT_TOPIC, MEMORY_EVENT, PIN_CLIENT, RECOVER_CLIENT
from .._runreply import run_result
from .inputs import RecomputedInputs
from .report import how_it_died
from .writer import write_death_snapshot

if TYPE_CHECKING:
    from distributed import Scheduler

logger = logging.getLogger("distributed.scheduler.cluster_hook")

#: At most this long to wait for lost inputs recomputed from their lineage.
RECOMPUTE_WAIT = 30.0
#: How long to wait for a worker that can write the snapshot (a nanny restarts one).
WRITER_WAIT = 60.0
#: Deaths being written at once; further ones (a storm of deaths) are only logged.
MAX_PENDING = 16
#: Seconds to prefer another writer than the worker running the retried task.
AVOID_RETRY_WORKER = 5.0
#: Workers tried in turn to write one death snapshot.
WRITER_ATTEMPTS = 6
#: A writer that has not answered within this many times snapshot.capture-timeout
#: (the write, then its upload to snapshot.upload) is taken as failed: the next
#: is asked, and finds the file if the first one had written it.
WRITE_WAIT_FACTOR = 3


class DeathWatch(SchedulerPlugin):
    """Writes a death snapshot for each task that was running on a worker that died."""

    name = DEATHS_PLUGIN_NAME
    idempotent = True

    def __init__(self, **settings: Any) -> None:
        self.settings_overrides: dict[str, Any] = dict(settings)
        self.scheduler: Scheduler | None = None
        self._workers: dict[str, Any] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._storm_logged = False
        self._counts: Counter[str] = Counter()
        self._limit_logged: set[str] = set()
        # Fingerprints whose KilledWorker death was written past the budget.
        self._killed_exempted: set[str] = set()
        self._max_per_fingerprint = 3
        self._write_wait = WRITE_WAIT_FACTOR * 60.0
        self._max_object_size: int | None = None
        self._capture_inputs = True
        self._inputs = RecomputedInputs()
        self._arrivals: dict[str, asyncio.Event] = {}
        self._registered: dict[str, float] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"settings_overrides": self.settings_overrides}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["settings_overrides"])  # type: ignore[misc]

    # -- plugin hooks (thin: they run on the scheduler's event loop) -----------
    async def start(self, scheduler: Scheduler) -> None:
        # No await here: concurrent idempotent registrations from several
        # workers then cannot interleave between the check and add_plugin.
        self.scheduler = scheduler
        self._workers = dict(scheduler.workers)
        try:
            settings = Settings.from_config(self.settings_overrides)
            self._max_per_fingerprint = settings.max_per_fingerprint
            self._max_object_size = settings.max_object_size
            self._capture_inputs = settings.capture_inputs and settings.enabled
            self._write_wait = WRITE_WAIT_FACTOR * settings.capture_timeout
        except ConfigError as err:
            logger.error("dask-replay: %s; keeping %d death snapshots per kind", err, 3)

    def add_worker(self, scheduler: Scheduler, worker: str) -> None:
        ws = scheduler.workers.get(worker)
        if ws is not None:
            self._workers[worker] = ws
            self._registered[worker] = time.time()

    def remove_worker(self, scheduler: Scheduler, worker: str, **kwargs: Any) -> None:
        self._workers.pop(worker, None)
        # _record has read it: remove-worker's event comes before this hook.
        self._registered.pop(worker, None)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()

    def log_event(self, topic: str, msg: Any) -> None:
        if topic in (EXIT_TOPIC, MEMORY_EVENT):
            # Its address may be stale (report.py): wake every death waiting for one.
            for arrived in self._arrivals.values():
                arrived.set()
            return
        if topic != "all" or not isinstance(msg, dict) or msg.get("action") != "remove-worker":
            return
        if msg.get("expected") or not msg.get("processing-tasks"):
            return
        try:
            self._on_death(msg)
        except Exception:
            logger.exception("dask-replay: could not record the death of %s", msg.get("worker"))

    # -- a death -------------------------------------------------------------
    def _on_death(self, msg: Mapping[str, Any]) -> None:
        scheduler = self.scheduler
        if scheduler is None:
            return
        address = str(msg.get("worker"))
        ws = self._workers.get(address)
        keys = set(msg["processing-tasks"])
        tasks = [scheduler.tasks[k] for k in keys if k in scheduler.tasks]
        # ws.processing also holds tasks queued on the worker behind the one that
        # ran; its last heartbeat says which were executing, when it had time to.
        executing = {ts.key for ts in getattr(ws, "executing", {}) or {}} & keys
        culprits = [ts for ts in tasks if ts.key in executing] or tasks
        for ts in culprits:
            if len(self._pending) >= MAX_PENDING:
                if not self._storm_logged:
                    self._storm_logged = True
                    logger.warning(
                        "dask-replay: %d death snapshots are being written; further deaths "
                        "are not recorded until they are done",
                        MAX_PENDING,
                    )
                return
            record = self._record(ts, ws, address, msg, bool(executing))
            pinned = scheduler_pins(scheduler, PIN_CLIENT).want(record["who_has"])
            # Called before remove_worker's own transitions: the lost inputs
            # wanted now go back to ``waiting`` instead of being forgotten.
            recovery = recover(
                scheduler,
                list(record["lost"]) if self._capture_inputs else [],
                client=RECOVER_CLIENT,
                max_bytes=self._max_object_size,
                worker_memory=record["dead"]["memory_limit"],
            )
            self._inputs.remember(scheduler, recovery)
            self._arrivals.setdefault(address, asyncio.Event())
            task = asyncio.ensure_future(self._write(record, recovery, pinned))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def _record(
        self, ts: Any, ws: Any, address: str, msg: Mapping[str, Any], heartbeat_known: bool
    ) -> dict[str, Any]:
        scheduler = self.scheduler
        assert scheduler is not None
        who_has: dict[Any, list[str]] = {}
        nbytes: dict[Any, int] = {}
        lost: dict[Any, str] = {}
        for dts in ts.dependencies:
            holders = sorted(w.address for w in (dts.who_has or ()))
            if holders:
                who_has[dts.key] = holders
                nbytes[dts.key] = int(dts.get_nbytes())
            else:
                lost[dts.key] = (
                    f"held only by the dead worker {address}"
                    if dts.state
                    in (
                        "memory",
                        "released",
                        "waiting",
                    )
                    else f"not in memory anywhere (state {dts.state!r})"
                )
        memory = getattr(ws, "memory", None)
        worker = {
            "worker": address,
            "worker_name": getattr(ws, "name", None),
            "host": address.split("://")[-1].rsplit(":", 1)[0],
            "pid": getattr(ws, "pid", None),
            "nanny": getattr(ws, "nanny", None),
            "nthreads": getattr(ws, "nthreads", None),
            "memory_limit": getattr(ws, "memory_limit", None) or None,
            "memory": {
                "process": memory.process,
                "managed": memory.managed,
                "unmanaged": memory.unmanaged,
                "spilled": memory.spilled,
            }
            if memory is not None
            else None,
        }
        return {
            "key": ts.key,
            "run_spec": ts.run_spec,
            "prefix": ts.prefix.name,
            "dependencies": [dts.key for dts in ts.dependencies],
            "annotations": dict(ts.annotations or {}),
            "priority": list(ts.priority) if ts.priority is not None else None,
            "who_has": who_has,
            "nbytes": nbytes,
            "lost": lost,
            "suspicious": int(ts.suspicious),
            "allowed_failures": int(scheduler.allowed_failures),
            "killed_worker": ts.state == "erred",
            "executing": (ts.key in {t.key for t in ws.executing}) if heartbeat_known else None,
            "stimulus_id": msg.get("stimulus_id"),
            "registered": self._registered.get(address),
            "time": time.time(),
            "dead": worker,
            "scheduler_id": scheduler.id,
            # Names the file: a writer that dies after writing it is not
            # followed by a second snapshot of the same death.
            "death_id": secrets.token_hex(8),
            "settings": self.settings_overrides,
        }

    async def _write(self, record: dict[str, Any], recovery: Recovery, pinned: list[Any]) -> None:
        scheduler = self.scheduler
        assert scheduler is not None
        try:
            record["death"] = await how_it_died(scheduler, record, self._arrivals)
            if not self._admit(record):
                return
            # One bound for every wait on recomputed inputs, retries included.
            deadline = time.monotonic() + RECOMPUTE_WAIT
            await wait_recovered(scheduler, recovery, RECOMPUTE_WAIT)
            message = {
                "op": "run",
                "function": dumps(write_death_snapshot),
                "args": dumps((record,)),
                "wait": True,
            }
            tried: list[str] = []
            # The writer may die too: the retried task often lands on it next.
            for attempt in range(WRITER_ATTEMPTS):
                strict = attempt < WRITER_ATTEMPTS - 1 and time.monotonic() < deadline
                self._inputs.apply(scheduler, record, recovery, strict=strict)
                message["args"] = dumps((record,))
                writer = await self._choose_writer(record, tried)
                if writer is None:
                    logger.warning(
                        "dask-replay: no worker is left to write the death snapshot of task %r",
                        record["key"],
                    )
                    return
                result, failed = await self._ask(writer, message)
                if failed is None and isinstance(result, dict) and result.get("retry"):
                    # A recomputed input's holder died meanwhile: wait for it again.
                    recovery.holders.clear()
                    left = max(0.0, deadline - time.monotonic())
                    await wait_recovered(scheduler, recovery, left)
                    continue
                if failed is None:
                    return
                tried.append(writer)
                logger.info(
                    "dask-replay: %s could not write the death snapshot of task %r: %s",
                    writer,
                    record["key"],
                    failed,
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("dask-replay: the death snapshot of %r was not written", record["key"])
        finally:
            # The recomputed inputs are the recovery's to release.
            scheduler_pins(scheduler, PIN_CLIENT).unwant(pinned)
            release(scheduler, recovery)
            if len(self._arrivals) > 4 * MAX_PENDING and not self._pending - {
                asyncio.current_task()
            }:
                self._arrivals.clear()

    async def _ask(self, writer: str, message: dict[str, Any]) -> tuple[Any, Any]:
        """The writer's answer, as ``run_result`` gives it; a failure past the time bound."""
        scheduler = self.scheduler
        assert scheduler is not None
        try:
            replies = await asyncio.wait_for(
                scheduler.broadcast(msg=message, workers=[writer], on_error="return"),
                self._write_wait,
            )
        except TimeoutError:
            return None, (
                f"no answer within {self._write_wait:g} s "
                f"({WRITE_WAIT_FACTOR} x snapshot.capture-timeout)"
            )
        return run_result(replies.get(writer))

    def _admit(self, record: dict[str, Any]) -> bool:
        """Count this death by kind; the first snapshot.max-per-fingerprint are written.

        Counted here, once per death, rather than by the writer: the worker
        chosen to write may die too (the retried task lands on it), and a
        count bumped by a writer that died would silence the deaths after it.
        """
        from distributed.scheduler import KilledWorker

        cause = record["death"]["cause"]
        fp = failure_fingerprint(record["prefix"], f"<worker death: {cause}>", KilledWorker, "", 0)
        self._counts[fp] += 1
        record["fingerprint"] = fp
        record["occurrence"] = occurrence = self._counts[fp]
        # The death that made the client's task fail is the one the user is told
        # about (KilledWorker): the first one past the budget is written too, so
        # a task that kills worker after worker has its last death on file.  Only
        # the first: a storm of deaths stays bounded (budget + 1 per fingerprint).
        exempt = record["killed_worker"] and fp not in self._killed_exempted
        if occurrence > self._max_per_fingerprint and exempt:
            self._killed_exempted.add(fp)
        elif occurrence > self._max_per_fingerprint:
            if fp not in self._limit_logged:
                self._limit_logged.add(fp)
                logger.info(
                    "dask-replay: %d death snapshot(s) already written for %s deaths of %r "
                    "tasks (snapshot.max-per-fingerprint); counting further ones only",
                    self._max_per_fingerprint,
                    cause,
                    record["prefix"],
                )
            return False
        return True

    async def _choose_writer(self, record: Mapping[str, Any], tried: list[str]) -> str | None:
        """A running worker, preferably one holding most of the surviving inputs."""
        scheduler = self.scheduler
        assert scheduler is not None
        dead = record["dead"]["worker"]
        started = time.monotonic()
        while True:
            running = [
                address
                for address, ws in scheduler.workers.items()
                if address != dead
                and address not in tried
                and getattr(ws.status, "name", "") == "running"
            ]
            # The worker the task was retried on is the next one it may kill:
            # avoid it for a few seconds, while another may come up.
            ts = scheduler.tasks.get(record["key"])
            busy = getattr(getattr(ts, "processing_on", None), "address", None)
            waited = time.monotonic() - started
            # ... unless it alone holds an input recomputed for this snapshot:
            # it may die before another worker comes up to fetch it from there.
            needed = [record["who_has"].get(k, ()) for k in record.get("strict") or ()]
            only_there = any(busy in h and not set(h) & (set(running) - {busy}) for h in needed)
            if busy in running and waited < AVOID_RETRY_WORKER and not only_there:
                running.remove(busy)
            if running:
                held = Counter(a for holders in record["who_has"].values() for a in holders)
                return max(running, key=lambda a: (held[a], a))
            if waited >= WRITER_WAIT:
                return None
            await asyncio.sleep(0.25)
