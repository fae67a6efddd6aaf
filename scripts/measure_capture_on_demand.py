"""Figures behind ``cluster_hook.capture`` (issue 19, item 1): how long a capture takes.

Usage: ``python scripts/measure_capture_on_demand.py [--mib N ...]`` from a
checkout (``PYTHONPATH=.``).  A LocalCluster of two worker processes computes
``double(make(N MiB of random floats))``; the script times
``cluster_hook.capture`` of the result's future (input and result on the
workers, the file written there, then copied into ``snapshot.client-directory``),
then again once the input has been released, when the scheduler recomputes it
from its lineage first.  Random data does not compress: the file holds both
arrays.  The success path of a task costs nothing: capture changes no worker code.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dask
import distributed
import numpy as np
from distributed import Client, LocalCluster

import cluster_hook
import snapshot


def make(n: int) -> np.ndarray:
    return np.random.default_rng(0).random(n)


def double(a: np.ndarray) -> np.ndarray:
    return a * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="+", default=[1, 100])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "snapshot.directory": str(Path(tmp) / "workers"),
            "snapshot.client-directory": str(Path(tmp) / "client"),
        }
        with (
            dask.config.set(config),
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            for mib in args.mib:
                x = client.submit(make, mib * 2**20 // 8, pure=False)
                y = client.submit(double, x, pure=False)
                distributed.wait(y)
                started = time.perf_counter()
                path = cluster_hook.capture(y)
                took = time.perf_counter() - started
                size = path.stat().st_size / 2**20
                print(f"{mib} MiB input, {mib} MiB result: {took:.2f} s, file {size:.1f} MiB")
                del x  # released: nothing else wants it
                time.sleep(0.5)
                started = time.perf_counter()
                path = cluster_hook.capture(y)
                took = time.perf_counter() - started
                flags = [e.recomputed is not None for e in snapshot.read_model(path).inputs]
                print(f"  its input released, recomputed first ({flags}): {took:.2f} s")


if __name__ == "__main__":
    main()
