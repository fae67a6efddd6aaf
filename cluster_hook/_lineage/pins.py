"""Keys kept in memory on the scheduler, counted: one pin set per scheduler and client id.

A snapshot's values must stay in memory until a worker has written it: a
feature wants them under a client id of ours (``Scheduler.client_desires_keys``,
as a client's futures want keys) and lets them go after
(``Scheduler.client_releases_keys``).  Several may want one key at once (two
captures of one task, a capture and a death), so :class:`Pins` counts each
key and releases it when the last one lets go.

The pin sets belong to a scheduler plugin (:class:`PinsPlugin`), added by the
first :func:`scheduler_pins` on that scheduler: they live and go with it,
nothing is kept per process.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from distributed import SchedulerPlugin

from .._names import PINS_PLUGIN_NAME

__all__ = ["Pins", "PinsPlugin", "scheduler_pins"]


class Pins:
    """The keys one client id of ours wants on one scheduler, each counted."""

    def __init__(self, scheduler: Any, client: str) -> None:
        self.scheduler = scheduler
        self.client = client
        self.counts: Counter[Any] = Counter()

    def want(self, keys: Iterable[Any]) -> list[Any]:
        """Keep ``keys`` in memory (those the scheduler knows); the keys wanted."""
        known = [k for k in keys if k in self.scheduler.tasks]
        if known:
            self.scheduler.client_desires_keys(keys=known, client=self.client)
            self.counts.update(known)
        return known

    def unwant(self, keys: Iterable[Any]) -> None:
        """Let go of ``keys`` once each; those nothing else of ours wants are released."""
        done = []
        for key in keys:
            if self.counts.get(key, 0) <= 0:
                continue  # never wanted here (unknown to the scheduler): nothing to release
            self.counts[key] -= 1
            if self.counts[key] == 0:
                del self.counts[key]
                done.append(key)
        if done and self.client in self.scheduler.clients:
            self.scheduler.client_releases_keys(
                keys=done, client=self.client, stimulus_id=f"{self.client}-{time.time()}"
            )


class PinsPlugin(SchedulerPlugin):
    """Holds a scheduler's pin sets, one per client id of ours; no hooks of its own."""

    name = PINS_PLUGIN_NAME

    def __init__(self) -> None:
        self.sets: dict[str, Pins] = {}

    def pins(self, scheduler: Any, client: str) -> Pins:
        found = self.sets.get(client)
        if found is None:
            found = self.sets[client] = Pins(scheduler, client)
        return found


def scheduler_pins(scheduler: Any, client: str) -> Pins:
    """The pin set of ``client`` on ``scheduler`` (its :class:`PinsPlugin` added if missing).

    Call it on the scheduler's event loop.
    """
    plugin = scheduler.plugins.get(PINS_PLUGIN_NAME)
    if not isinstance(plugin, PinsPlugin):
        plugin = PinsPlugin()
        scheduler.add_plugin(plugin, name=PINS_PLUGIN_NAME)
    return plugin.pins(scheduler, client)
