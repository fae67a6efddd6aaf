"""What the cluster capture benchmarks run inside the worker process.

The inputs are made on the worker (a task's result, held in ``worker.data`` as
a real input would be); the failing tasks, the baseline (``cloudpickle.dumps``
+ zstd level 1 + fsync of the same object) and the memory and clock readings
all run in that one process.  Importable by name: workers unpickle these
functions by reference, as they would a user's package.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

CLOCK = "benchmark-error-clock"

#: ``time.perf_counter()`` just before the last failing task of this module raised.
raised_at = 0.0
#: ``time.process_time()`` (all threads of the worker) at the same moment.
raised_cpu = 0.0


def _mark() -> None:
    """Note the moment of the raise: wall clock and the process's CPU time."""
    global raised_at, raised_cpu
    raised_cpu = time.process_time()
    raised_at = time.perf_counter()


# -- the inputs -----------------------------------------------------------------


def make_input(kind: str, n: int) -> Any:
    """The object a failing task holds; ``n`` is bytes or a count (see capture_cluster)."""
    import numpy as np

    rng = np.random.default_rng(20261202)
    if kind == "bytes":
        return rng.bytes(n)  # incompressible: what the disk and zstd must carry
    if kind == "dicts":  # a bag partition of records
        return [{"id": i, "name": f"user-{i}", "score": i * 0.5} for i in range(n)]
    if kind == "strdict":
        return {f"key-{i}": i for i in range(n)}
    if kind == "dataframe":
        import pandas as pd

        words = [f"item-{i % 50_000}-{i}" for i in range(n)]
        return pd.DataFrame(
            {
                "obj": pd.Series(words, dtype=object),
                "arrow": pd.Series(words, dtype="string[pyarrow]"),
            }
        )
    if kind == "numpy":
        return rng.standard_normal(n // 8)
    raise ValueError(f"unknown input kind {kind!r}")


def deep_size(obj: Any) -> int:
    """Bytes the object holds in memory (what '5% of the input' is taken of)."""
    import numpy as np

    if isinstance(obj, bytes | bytearray):
        return len(obj)
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if type(obj).__name__ == "DataFrame":
        return int(obj.memory_usage(deep=True, index=True).sum())
    seen: set[int] = set()
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return total


# -- the failing tasks ------------------------------------------------------------


def fail_with(x: Any) -> None:
    """A bug next to the input: the task every capture row times."""
    size = len(x)
    _mark()
    raise ValueError(f"bad partition of {size} items")


def fail_warmup(x: Any) -> None:
    """A small failure of another fingerprint: warms a newly registered hook up."""
    raise ValueError(f"warm-up failure {x!r}")


def fail_in_three_frames(x: Any) -> None:
    """The input is a local of three frames (and the call's argument, and an input)."""
    _second(x, len(x))


def _second(x: Any, n: int) -> None:
    _third(x, n)


def _third(x: Any, n: int) -> None:
    _mark()
    raise ValueError(f"bad partition of {n} items, three frames down")


def fail_deep(depth: int) -> None:
    """Raise ``depth`` frames down; each frame holds 5 small locals."""
    _descend(depth, 0, "frame", 0.5, (1, 2))


def _descend(n: int, i: int, s: str, f: float, t: tuple[int, int]) -> None:
    if n <= 1:
        _mark()
        raise ValueError(f"bad record at depth {i + 1}")
    _descend(n - 1, i + 1, s, f, t)


# -- the baseline ---------------------------------------------------------------


def dump_zstd_fsync(x: Any, target: str) -> dict[str, Any]:
    """``cloudpickle.dumps`` of the object once, zstd level 1, write + fsync: timed here."""
    import cloudpickle
    import zstandard

    compressor = zstandard.ZstdCompressor(level=1)
    start = time.perf_counter()
    pickled = cloudpickle.dumps(x)
    compressed = compressor.compress(pickled)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(compressed)
        while view.nbytes:
            view = view[os.write(fd, view[: 1 << 30]) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "pickle_bytes": len(pickled), "bytes": len(compressed)}


# -- readings (``client.run``) --------------------------------------------------


class ErrorClock(WorkerPlugin):
    """Notes when each task reaches ``error`` on the worker (its event loop, after the
    task's thread returned): the end of what a failing task costs the worker."""

    name = CLOCK

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def setup(self, worker: Any) -> None:
        self.times = {}
        self.cpu = {}

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "error":
            self.times[str(key)] = time.perf_counter()
            self.cpu[str(key)] = time.process_time()


def plugin_names(dask_worker: Any = None) -> list[str]:
    return sorted(map(str, dask_worker.plugins))


def erred(key: str, dask_worker: Any = None) -> bool:
    """Has ``key`` reached ``error`` on this worker?"""
    return key in dask_worker.plugins[CLOCK].times


def clock(key: str, dask_worker: Any = None) -> float:
    """Seconds from the last raise to ``key`` reaching ``error`` on this worker."""
    plugin = dask_worker.plugins[CLOCK]
    return float(plugin.times.pop(key) - raised_at)


def cpu_clock(key: str, dask_worker: Any = None) -> float:
    """CPU seconds of the worker process, all threads, over the same span as :func:`clock`.

    Other processes on a busy machine stretch the wall clock, not this.
    """
    plugin = dask_worker.plugins[CLOCK]
    return float(plugin.cpu.pop(key) - raised_cpu)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Reset VmHWM to the current RSS (``5`` into clear_refs); return that RSS in bytes."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kib("VmRSS") * 1024


def peak() -> int:
    """VmHWM in bytes: the peak resident memory since the last :func:`reset_peak`."""
    return _status_kib("VmHWM") * 1024


def rss() -> int:
    return _status_kib("VmRSS") * 1024
