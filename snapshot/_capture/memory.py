"""Never let a capture push the process past the RSS at which it would be killed.

The host says where that line is: a memory limit and the fraction of it at
which the process is ended (the Dask hook reads them off the worker and
``distributed.worker.memory.terminate``).  Why Dask needs it: in distributed
2026.8 the worker's limit is ``worker.memory_manager.memory_limit``
(``WorkerMemoryManager``, None without a limit); the nanny's
``NannyMemoryManager.memory_monitor`` reads the worker process's RSS with
``psutil.Process(pid).memory_info().rss`` every
``distributed.worker.memory.monitor-interval`` (100 ms) and, past
``distributed.worker.memory.terminate`` (0.95) of the limit, logs "exceeded 95%
memory budget. Restarting...", sends SIGTERM, and SIGKILL at the next check.
A restart loses the worker's data and reruns its tasks elsewhere (with
``allowed-failures`` exhausted, the user sees ``KilledWorker`` instead of their
own error): the hook must stop short of it.

The guard measures the same RSS.  A capture starts only with at least
:data:`RESERVE` below the threshold (else the snapshot is the manifest alone,
with the reason), and is cancelled, keeping what it wrote, when the RSS comes
within :attr:`MemoryGuard.margin` of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import psutil

from .._limits import MiB

#: Headroom a capture needs to start at all (pickler state, one spooled chunk).
RESERVE = 128 * MiB


@dataclass(frozen=True)
class MemoryGuard:
    """The RSS a capture must stay under, and how to measure it."""

    RESERVE: ClassVar[int] = RESERVE

    limit: int | None  # the process's memory limit in bytes, None: no limit
    terminate: float | None  # the fraction of it that ends the process, None: never
    owner: str = "the process"  # whose memory, in the messages
    setting: str = "terminate"  # the name of the setting that holds ``terminate``

    @property
    def active(self) -> bool:
        return self.limit is not None and self.terminate is not None

    @property
    def threshold(self) -> int | None:
        """The RSS at which the process is ended (the nanny restarts a Dask worker)."""
        if self.limit is None or self.terminate is None:
            return None
        return int(self.limit * self.terminate)

    @property
    def margin(self) -> int:
        """Distance from the threshold at which a running capture is cancelled.

        The nanny checks every 100 ms and we check every 20 ms; a memcpy at
        ~1 GiB/s grows the RSS by ~20 MiB between two of our checks.
        """
        return max(64 * MiB, int((self.limit or 0) * 0.03))

    @staticmethod
    def rss() -> int:
        try:
            return int(psutil.Process().memory_info().rss)
        except Exception:
            return 0

    def headroom(self) -> int | None:
        """Bytes the process may still grow before the cancel line; None: unbounded."""
        threshold = self.threshold
        if threshold is None:
            return None
        return threshold - self.margin - self.rss()

    def describe(self, rss: int) -> str:
        threshold = self.threshold or 0
        return (
            f"{self.owner}'s memory ({rss / MiB:.0f} MiB) came within {self.margin / MiB:.0f} MiB "
            f"of its restart threshold ({threshold / MiB:.0f} MiB: "
            f"{self.setting} {self.terminate:g} of the "
            f"{(self.limit or 0) / MiB:.0f} MiB memory limit)"
        )
