"""A real worker process under valgrind's callgrind, whose instructions are read live.

Wall and CPU times of the success path move by several percent with whatever
else runs on a shared machine; the hook costs about 0.2% of a task.  A count of
instructions executed by the worker process does not depend on the machine's
load, so it can resolve that difference.  The worker is ``python -m
distributed.cli.dask_worker`` (no nanny, one thread) started under ``valgrind
--tool=callgrind --instr-atstart=no`` (start-up runs at near native speed);
instrumentation is switched on once the worker is up, and
``callgrind_control -e Ir PID`` reads the running totals of all its threads
between rounds, without stopping it.

The worker also executes instructions per second of wall time, not per task
(its event loop's periodic callbacks: heartbeats above all), and a round's wall
time moves with the machine's load: the caller estimates that rate from the
rounds themselves and subtracts it (``success``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._harness import BenchmarkError

if TYPE_CHECKING:
    from distributed import Client

#: The worker's own config.  Work done per second of wall time, not per task, which
#: callgrind stretches 20-fold, made rarer: the statistical profiler (every 10 ms)
#: off, the GIL contention monitor (a poll every 1 ms) off, the event loop's tick
#: check every 1 s (20 ms), the system monitor every 10 s (500 ms), the memory
#: monitor every 10 s (100 ms).  What is left of it (heartbeats) is subtracted.
WORKER_ENV = {
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__GIL__ENABLED": "False",
    "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",
    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "10s",
    "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "10s",
    "DASK_LOGGING__DISTRIBUTED": "critical",
    "PYTHONHASHSEED": "0",
}


def available() -> bool:
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


class CountedWorker:
    """The callgrind'd worker process of a running scheduler."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def total(self) -> int:
        """Instructions executed so far by every thread of the worker (instrumented part)."""
        done = subprocess.run(
            ["callgrind_control", "-e", "Ir", str(self.process.pid)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        block = done.stdout.split("Totals:", 1)
        if len(block) != 2:
            raise BenchmarkError(f"callgrind_control gave no totals:\n{done.stdout[-1000:]}")
        counts = re.findall(r"Th\s+\d+\s+([\d,]+)", block[1])
        return sum(int(c.replace(",", "")) for c in counts)

    def instrument(self) -> None:
        subprocess.run(
            ["callgrind_control", "-i", "on", str(self.process.pid)],
            capture_output=True,
            timeout=120,
            check=True,
        )

    def count(self, run: Callable[[], object]) -> tuple[int, float]:
        """Instructions executed by the worker and wall seconds, over one call of ``run``."""
        before, start = self.total(), time.perf_counter()
        run()
        after, end = self.total(), time.perf_counter()
        return after - before, end - start


@contextmanager
def counted_worker(
    client: Client, scheduler_address: str, env: Mapping[str, str]
) -> Iterator[CountedWorker]:
    """Start one worker under callgrind for ``scheduler_address`` with ``env`` (the
    benchmark's children's: this checkout on the path); instrument it once it is up."""
    process = subprocess.Popen(
        [
            *("valgrind", "--tool=callgrind", "--instr-atstart=no"),
            "--callgrind-out-file=/dev/null",
            *(sys.executable, "-m", "distributed.cli.dask_worker", scheduler_address),
            *("--nthreads", "1", "--no-nanny", "--no-dashboard"),
        ],
        env={**env, **WORKER_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client.wait_for_workers(1, timeout=300)
        worker = CountedWorker(process)
        worker.instrument()
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
