"""One worker, the hook switched on and off: failing tasks timed inside the worker.

``LocalCluster(n_workers=1, threads_per_worker=1, processes=True)``.  A failing
task's cost to its worker is read in the worker process: from the
``time.perf_counter()`` taken on the line before the ``raise`` to the moment the
worker moves the task to ``error`` (:class:`~benchmarks._inworker.ErrorClock`).
With the hook that span holds the capture; without it, only distributed's own
handling of a failure.  The capture time is the difference, round by round.
The hook is turned on with ``cluster_hook.register(client)`` and off with
``client.unregister_worker_plugin``: the same worker process runs both arms.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _inworker
from ._clusters import has_hook, local_cluster


@dataclass
class Failure:
    """One failing task, as its worker saw it."""

    seconds: float  # raise -> error transition, in the worker
    peak_extra: int  # VmHWM during the task minus VmRSS just before it, bytes
    snapshot: Path | None  # the file the hook wrote, if any
    cpu: float = 0.0  # the worker process's CPU seconds (all threads) over the same span


class HookedWorker:
    """A one-worker cluster whose hook the benchmark switches on and off."""

    def __init__(self, client: Any, directory: Path, timeout: float = 900) -> None:
        self.client = client
        self.timeout = timeout  # seconds one failing task may take
        self.directory = directory
        self.hooked = False
        self.worker_plugins: set[str] = set()

    # -- the hook ---------------------------------------------------------------

    def hook(self, on: bool, *, warm: bool = True) -> None:
        """Register or remove the plugin (not timed); checked on the worker."""
        import cluster_hook

        if on and not self.hooked:
            before = set(self.run(_inworker.plugin_names))
            # Every failure is a snapshot: no storm limit in a benchmark.
            cluster_hook.register(
                self.client, directory=str(self.directory), max_per_fingerprint=1_000_000
            )
            # What register() put on the worker (the snapshot plugin, and whatever else
            # the hook installs there): the off arm removes all of it.
            self.worker_plugins |= set(self.run(_inworker.plugin_names)) - before
            if warm:
                self._warm()
        elif not on and self.hooked:
            for name in sorted(self.worker_plugins):
                self.client.unregister_worker_plugin(name)
        loaded = set(self.client.run(has_hook).values())
        if loaded != {on}:
            raise RuntimeError(f"expected the hook {'on' if on else 'off'}; workers: {loaded}")
        self.hooked = on

    def _warm(self) -> None:
        """A newly registered hook's first capture pays for imports and caches: a
        worker that has failed before has paid them (measured apart, in the
        'first capture' row)."""
        fut = self.client.submit(_inworker.fail_warmup, 0, pure=False)
        self._wait_error(fut)
        del fut
        self.take_snapshot()  # and delete it

    # -- one failure ------------------------------------------------------------

    def fail(self, func: Any, *args: Any, sync: bool = True) -> Failure:
        """Run one failing task; return its in-worker time, extra peak and snapshot."""
        if sync:
            os.sync()  # no one's dirty pages left for this task's fsync (not timed)
        before = self.run(_inworker.reset_peak)
        fut = self.client.submit(func, *args, pure=False)
        self._wait_error(fut)
        key = str(fut.key)
        seconds = self.run(_inworker.clock, key)
        cpu = self.run(_inworker.cpu_clock, key)
        extra = self.run(_inworker.peak) - before
        del fut
        return Failure(seconds, extra, self.take_snapshot() if self.hooked else None, cpu)

    def baseline(self, x: Any, target: Path) -> dict[str, Any]:
        """``cloudpickle.dumps`` + zstd -1 + fsync of ``x`` in the worker; the file is deleted."""
        os.sync()
        before = self.run(_inworker.reset_peak)
        out: dict[str, Any] = self.client.submit(
            _inworker.dump_zstd_fsync, x, str(target), pure=False
        ).result(self.timeout)
        out["peak_extra"] = self.run(_inworker.peak) - before
        target.unlink()
        return out

    def _wait_error(self, fut: Any) -> None:
        """Wait until the worker has moved the task to ``error``.

        Asked of the worker, not of the future: a client cannot take in the
        traceback of a task that failed 900 frames down (distributed 2026.8's
        ``clean_exception`` asserts on what tblib gives back), so that future
        never resolves, with or without the hook.
        """
        key = str(fut.key)
        deadline = time.monotonic() + self.timeout
        pause = 0.002
        while not self.run(_inworker.erred, key):
            if fut.status in ("finished", "cancelled"):
                raise RuntimeError(f"task {key} ended {fut.status!r}; expected an error")
            if time.monotonic() > deadline:
                raise RuntimeError(f"task {key} did not fail within {self.timeout:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def take_snapshot(self) -> Path | None:
        """Move the hook's newest snapshot out of its directory (None if it wrote none)."""
        import cluster_hook

        written = [p for p in self.directory.glob(f"*{cluster_hook.SUFFIX}") if p.is_file()]
        if not written:
            return None
        newest = max(written, key=lambda p: p.stat().st_mtime_ns)
        for other in written:
            if other != newest:
                other.unlink()
        return newest

    def run(self, func: Any, *args: Any) -> Any:
        """``func(*args)`` in the worker process (``client.run``); its one result."""
        results = self.client.run(func, *args)
        if len(results) != 1:
            raise RuntimeError(f"expected one worker, got {len(results)}")
        return next(iter(results.values()))

    def restart(self) -> None:
        """A fresh worker process (the nanny restarts it); plugins come back as registered."""
        self.client.restart(timeout=self.timeout)  # it waits for the worker to come back
        deadline = time.monotonic() + self.timeout
        # (Not client.wait_for_workers: a LocalCluster's count of its workers may lag a
        # restart for good.)  The clock plugin set up means the worker is ready.
        while True:
            try:
                if self.run(_inworker.plugin_names):
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not come back within {self.timeout:.0f} s")
            time.sleep(0.1)
        time.sleep(0.5)  # let the plugins' setup finish before the first task


@contextmanager
def hooked_worker(directory: Path, timeout: float = 900) -> Iterator[HookedWorker]:
    """The one-worker cluster, its clock installed, the hook off."""
    with local_cluster(hook=False, n_workers=1) as client:
        client.register_plugin(_inworker.ErrorClock())
        yield HookedWorker(client, directory, timeout)
