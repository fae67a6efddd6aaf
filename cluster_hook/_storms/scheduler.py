"""The scheduler's part: it hands out the cluster's snapshot slots and counts every failure.

A bug that hits every partition fails on every host.  Each host's own budget
(``snapshot.max-per-fingerprint`` per snapshot directory) would write that many
files on every host: 3,000 files for one bug on 1,000 hosts.  Here workers ask
the scheduler first, on the failure path only (one small message per failure,
never on success): the first ``limit`` failures of a fingerprint anywhere in
the cluster are written, every later one is counted (once a worker knows a
budget is spent, it counts its failures itself and sends the counts through
its batched stream a few times a second, with no reply: ``count``).  The counts reach users
on the ``snapshot-storm`` topic, once a second for the fingerprints that
changed, and through ``cluster_hook.storm_counts(client)``.

The table is bounded (``MAX_FINGERPRINTS``): past it, a new fingerprint gets
no answer and its workers fall back to their own directory's budget.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import SchedulerPlugin
from tornado.ioloop import PeriodicCallback

from .._names import (
    BUDGET_METADATA,
    SNAPSHOT_TOPIC,
    STORM_COUNT_HANDLER,
    STORM_HANDLER,
    STORM_TOPIC,
    STORMS_PLUGIN_NAME,
)

if TYPE_CHECKING:
    from distributed import Scheduler

logger = logging.getLogger("distributed.scheduler.cluster_hook")

#: Fingerprints the scheduler keeps counts for; further ones get no answer.
MAX_FINGERPRINTS = 10_000
#: Worker addresses the budget tells apart in its counts (restarts bring new ones).
MAX_WORKERS = 100_000
#: Places of written snapshots kept per fingerprint, for the notes of the others.
MAX_PLACES = 3
#: How often changed counts are published on the ``snapshot-storm`` topic (ms).
PUBLISH_EVERY_MS = 1000


@dataclass
class Storm:
    """One fingerprint's failures across the cluster."""

    failures: int = 0
    written: int = 0
    # Which workers saw it: bit i for the i-th worker address the budget met, so
    # a fingerprint costs a bit per worker, not a string (10,000 x 1,000 workers: 1.2 MB).
    workers: int = 0
    places: list[str] = field(default_factory=list)  # host:path of written snapshots

    def as_event(self, fingerprint: str) -> dict[str, Any]:
        return {
            "fingerprint": fingerprint,
            "failures": self.failures,
            "written": self.written,
            "workers": self.workers.bit_count(),
            "places": list(self.places),
        }


class StormBudget(SchedulerPlugin):
    """Keeps ``snapshot.max-per-fingerprint`` for the whole cluster, not per host."""

    name = STORMS_PLUGIN_NAME
    idempotent = True

    def __init__(self) -> None:
        self.storms: dict[str, Storm] = {}
        self._worker_index: dict[str, int] = {}
        self._changed: set[str] = set()
        self._scheduler: Scheduler | None = None
        self._publisher: PeriodicCallback | None = None

    async def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        scheduler.handlers[STORM_HANDLER] = self.admit
        scheduler.stream_handlers[STORM_COUNT_HANDLER] = self.count
        # How workers learn that this scheduler keeps a budget, through a handler
        # every scheduler has (asking a missing one logs a warning there).
        scheduler.set_metadata(list(BUDGET_METADATA), STORM_HANDLER)
        self._publisher = PeriodicCallback(self.publish, PUBLISH_EVERY_MS)
        self._publisher.start()

    async def close(self) -> None:
        if self._publisher is not None:
            self._publisher.stop()
        if self._scheduler is not None:
            self._scheduler.handlers.pop(STORM_HANDLER, None)
            self._scheduler.stream_handlers.pop(STORM_COUNT_HANDLER, None)
            self._scheduler.set_metadata(list(BUDGET_METADATA), None)

    def admit(
        self, fingerprint: str | None = None, limit: int = 0, worker: str = ""
    ) -> dict[str, Any] | None:
        """A worker's question: may this failure be written?  Counts it either way.

        Returns None when the table is full (the worker then applies its own budget).
        """
        if fingerprint is None:
            return None
        storm = self.storms.get(fingerprint)
        if storm is None:
            if len(self.storms) >= MAX_FINGERPRINTS:
                return None
            storm = self.storms[fingerprint] = Storm()
        storm.failures += 1
        storm.workers |= self._worker_bit(worker)
        self._changed.add(fingerprint)
        admitted = storm.written < limit
        if admitted:
            storm.written += 1
        return {
            "admitted": admitted,
            "occurrence": storm.failures,
            "written": storm.written,
            "places": list(storm.places),
        }

    def count(self, counts: Any = None, worker: str = "") -> None:
        """Failures of spent budgets, ``{fingerprint: n}`` from a worker's batched stream."""
        if not isinstance(counts, dict):
            return
        for fingerprint, n in counts.items():
            storm = self.storms.get(fingerprint)
            if storm is None or type(n) is not int or n <= 0:
                continue
            storm.failures += n
            storm.workers |= self._worker_bit(worker)
            self._changed.add(fingerprint)

    def _worker_bit(self, worker: str) -> int:
        """The worker's bit in ``Storm.workers`` (0: unnamed, or past ``MAX_WORKERS``)."""
        if not worker:
            return 0
        index = self._worker_index.get(worker)
        if index is None:
            if len(self._worker_index) >= MAX_WORKERS:
                return 0
            index = self._worker_index[worker] = len(self._worker_index)
        return 1 << index

    def log_event(self, topic: str, msg: Any) -> None:
        """Where each written snapshot went (the workers' ``snapshot`` events)."""
        if topic != SNAPSHOT_TOPIC or not isinstance(msg, Mapping):
            return
        storm = self.storms.get(str(msg.get("fingerprint")))
        place = f"{msg.get('host', '?')}:{msg.get('path', '?')}"
        if storm is not None and len(storm.places) < MAX_PLACES and place not in storm.places:
            storm.places.append(place)

    def publish(self) -> None:
        """The counts that changed since the last call, one event per fingerprint."""
        if self._scheduler is None or not self._changed:
            return
        changed, self._changed = self._changed, set()
        for fingerprint in sorted(changed):
            storm = self.storms.get(fingerprint)
            if storm is not None:
                self._scheduler.log_event(STORM_TOPIC, storm.as_event(fingerprint))

    def counts(self) -> dict[str, dict[str, Any]]:
        return {fp: storm.as_event(fp) for fp, storm in self.storms.items()}


def storm_counts_on_scheduler(dask_scheduler: Scheduler) -> dict[str, dict[str, Any]]:
    """Run on the scheduler (``Client.run_on_scheduler``): every fingerprint's counts."""
    plugin = dask_scheduler.plugins.get(STORMS_PLUGIN_NAME)
    return plugin.counts() if isinstance(plugin, StormBudget) else {}


def storm_counts(client: Any) -> dict[str, dict[str, Any]]:
    """How often each failure happened across the cluster, and how many snapshots it has.

    ``{fingerprint: {"failures", "written", "workers", "places"}}``, from the
    scheduler's ``StormBudget`` (empty when the scheduler does not run it).
    """
    counts: dict[str, dict[str, Any]] = client.run_on_scheduler(storm_counts_on_scheduler)
    return counts
