"""Figures behind the capture's bounds (issue 17): delays, memory and the stall default.

Usage: ``python scripts/measure_capture_bounds.py [--gib N]`` from a checkout
(``PYTHONPATH=.``).  Starts ``dask scheduler`` and two ``dask worker``
processes, ``plain`` (no hook: the control), ``capped`` (``--preload
cluster_hook``, ``max-object-size`` 1 MiB) and ``hooked`` (the defaults),
and prints, for each case, the time from submitting the failing task to the
client's error, with and without the hook (median of 3):

1. an object whose ``__reduce__`` returns 64 MiB of bytes, cap 1 MiB;
2. a ``__getstate__`` that sleeps 30 s, default stall budget (5 s);
3. an honest capture of N GiB (random bytes, zeros, a non-contiguous array),
   default settings;

with the growth of the worker's peak RSS during the failing task.

Then, in this process, the longest time the pickling went without progress
(the stall budget's measure) for honest objects of N GiB and more: the
figure the default of ``snapshot.capture-stall-timeout`` is chosen against.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


class Inflates:
    def __init__(self, n: int) -> None:
        self.n = n

    def __reduce__(self) -> Any:
        return (bytes, (b"\0" * self.n,))


class Sleeps:
    def __getstate__(self) -> dict[str, Any]:
        time.sleep(30)
        return {}


def make(kind: str, n: int) -> Any:
    if kind == "inflates":
        return Inflates(n)
    if kind == "sleeps":
        return Sleeps()
    if kind == "random":
        return np.random.default_rng(0).integers(0, 256, n, dtype=np.uint8)
    if kind == "strided":
        return np.ones(2 * n, dtype=np.uint8)[::2]
    return np.zeros(n, dtype=np.uint8)


def fails_with(obj: Any) -> None:
    raise ValueError("the task failed")


def peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


VERBOSE = bool(os.environ.get("MEASURE_VERBOSE"))
QUIET = ("--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0")


def cluster(tmp: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(tmp / "snapshots")
    env["DASK_SNAPSHOT__MAX_PER_FINGERPRINT"] = "1000"
    address = f"tcp://127.0.0.1:{_port()}"
    dask = [sys.executable, "-m", "dask"]
    log = open(tmp / "cluster.log", "wb")
    common: dict[str, Any] = {"stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1]],
            env=env,
            **common,
        )
    ]
    hook = ["--preload", "cluster_hook"]
    for name, flags, extra in (
        ("plain", [], {}),
        ("capped", hook, {"DASK_SNAPSHOT__MAX_OBJECT_SIZE": "1 MiB"}),
        ("hooked", hook, {}),
    ):
        procs.append(
            subprocess.Popen(
                [*dask, "worker", address, *flags, "--name", name, "--nthreads", "1", *QUIET],
                env={**env, **extra},
                **common,
            )
        )
    return address, procs


def timed(c: Any, worker: str, kind: str, n: int) -> tuple[float, int]:
    """Seconds from submitting the failing task to the client's error, and the
    growth of the worker's peak RSS meanwhile (the object already exists)."""
    from distributed import wait

    obj = c.submit(make, kind, n, workers=[worker], pure=False)
    wait(obj)
    (address,) = [a for a, w in c.scheduler_info()["workers"].items() if w["name"] == worker]
    c.run(reset_peak, workers=[address])
    (before,) = c.run(peak_rss, workers=[address]).values()
    started = time.monotonic()
    try:
        c.submit(fails_with, obj, workers=[worker], pure=False).result(timeout=300)
    except ValueError as exc:
        if VERBOSE:
            print("   ", worker, getattr(exc, "__notes__", None))
    took = time.monotonic() - started
    (after,) = c.run(peak_rss, workers=[address]).values()
    return took, after - before


def on_cluster(gib: float) -> None:
    from distributed import Client

    with tempfile.TemporaryDirectory() as tmp:
        address, procs = cluster(Path(tmp))
        try:
            with Client(address, timeout=60) as c:
                c.wait_for_workers(3, timeout=120)
                cases = [
                    ("64 MiB from __reduce__, cap 1 MiB", "inflates", 64 * 2**20, "capped"),
                    ("30 s __getstate__, stall budget 5 s", "sleeps", 0, "hooked"),
                    (f"honest {gib:g} GiB random", "random", int(gib * 2**30), "hooked"),
                    (f"honest {gib:g} GiB zeros", "zeros", int(gib * 2**30), "hooked"),
                    (f"honest {gib:g} GiB non-contiguous", "strided", int(gib * 2**30), "hooked"),
                ]
                for title, kind, n, worker in cases:
                    plain = statistics.median(timed(c, "plain", kind, n)[0] for _ in range(3))
                    rounds = [
                        timed(c, worker, kind, n) for _ in range(1 if kind == "sleeps" else 3)
                    ]
                    hooked = statistics.median(t for t, _ in rounds)
                    grew = max(g for _, g in rounds)
                    print(
                        f"{title}: without the hook {plain:.2f} s, with it {hooked:.2f} s "
                        f"(+{hooked - plain:.2f} s); the worker's peak RSS +{grew / 2**20:.0f} MiB"
                    )
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=30)


def longest_stall(gib: float) -> None:
    """The longest time without progress while honest objects are pickled."""
    import snapshot

    n = int(gib * 2**30)
    objects = {
        f"{gib:g} GiB random array": np.random.default_rng(0).integers(0, 256, n, dtype=np.uint8),
        f"{gib:g} GiB array, non-contiguous": np.zeros(2 * n, dtype=np.uint8)[::2],
        f"{gib:g} GiB bytes": os.urandom(n),
        "10 million ints in a list": list(range(10_000_000)),
        "2 million small dicts": [{"a": i, "b": str(i)} for i in range(2_000_000)],
    }
    try:
        import pandas as pd

        objects["DataFrame, 5 million object strings"] = pd.DataFrame(
            {"s": np.array([f"row-{i}" for i in range(5_000_000)], dtype=object)}
        )
    except ImportError:
        pass
    for title, obj in objects.items():
        builder = snapshot.SnapshotBuilder(limits=snapshot.WriteLimits(max_piece_bytes=4 * 2**30))
        worst = 0.0
        done = threading.Event()

        def watch(builder: Any = builder, done: threading.Event = done) -> None:
            nonlocal worst
            ticks, since = -1, time.monotonic()
            while not done.wait(0.005):
                now = time.monotonic()
                if builder.progress.ticks != ticks:
                    ticks, since = builder.progress.ticks, now
                worst = max(worst, now - since)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.monotonic()
        builder.add(obj, label="call.args[0]")
        took = time.monotonic() - started
        done.set()
        watcher.join()
        print(f"pickling {title}: {took:.2f} s, longest without progress {worst:.3f} s")
        del builder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Just under max-object-size (1 GiB): a 1 GiB array's pickle is 1 GiB and a header.
    parser.add_argument("--gib", type=float, default=0.9, help="size of the honest objects")
    parser.add_argument("--no-cluster", action="store_true", help="only the in-process figures")
    args = parser.parse_args()
    if not args.no_cluster:
        on_cluster(args.gib)
    longest_stall(args.gib)


if __name__ == "__main__":
    main()
