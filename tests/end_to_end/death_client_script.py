"""Tasks that kill their workers, run as ``__main__`` against a real scheduler.

Usage: ``python death_client_script.py SCHEDULER_ADDRESS OUT.json`` against
five worker processes.  With ``allowed-failures`` 0: ``exit`` (``os._exit(1)``,
its input held by another worker), ``segv`` (``ctypes.string_at(0)``, its
input held by its own worker only) and ``memory`` (allocates past the
worker's ``--memory-limit`` until the nanny kills it), all at once; then with
the scheduler's default (3), ``retried`` (``os._exit(1)`` on every worker
that tries it).  The functions live in ``__main__`` and travel by value, as a
notebook's do.  For each scenario the report holds what the client saw
(exception type and text) and the ``snapshot`` events naming it.
"""

import ctypes
import json
import os
import sys
import time

import numpy as np
from distributed import Client

import cluster_hook

WORKERS = 5


def make_input(n):
    return np.arange(n)


def exit_now(values):
    total = int(values.sum())
    os._exit(1)
    return total


def segv(x):
    ctypes.string_at(0)
    return x


def hog(step):
    chunks = []
    while True:
        size = step * (len(chunks) + 1)
        chunks.append(b"x" * size)
        time.sleep(0.01)


def ok(x):
    return x + 1


def wait_for_event(client, key, count, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [e for _, e in client.get_events("snapshot") if e.get("key") == key]
        if len(events) >= count:
            return events
        time.sleep(0.2)
    return [e for _, e in client.get_events("snapshot") if e.get("key") == key]


def outcome(future):
    try:
        return {"type": None, "result": repr(future.result(timeout=120))}
    except Exception as exc:
        return {"type": type(exc).__name__, "text": str(exc)}


def set_allowed_failures(n, dask_scheduler=None):
    # Scheduler.remove_worker reads self.allowed_failures at each death.
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = n
    return previous


def main(address, out_path):
    report = {}
    with Client(address, timeout=60) as c:
        c.wait_for_workers(WORKERS, timeout=120)
        report["ok"] = outcome(c.submit(ok, 1, key="ok-1"))

        # Round 1, allowed-failures 0: three tasks kill three workers at once;
        # the others survive and write the three snapshots.
        default = c.run_on_scheduler(set_allowed_failures, 0)
        report["default_allowed_failures"] = default
        w = sorted(c.scheduler_info()["workers"])
        exit_input = c.submit(make_input, 1000, key="exit-input", workers=[w[3]])
        # This input lives only on the worker that dies: it is lost.
        segv_input = c.submit(make_input, 5, key="segv-input", workers=[w[1]])
        c.gather([exit_input, segv_input])
        futures = {
            "exit": c.submit(exit_now, exit_input, key="exit-task", workers=[w[0]]),
            "segv": c.submit(segv, segv_input, key="segv-task", workers=[w[1]]),
            "memory": c.submit(hog, 8 * 2**20, key="memory-task", workers=[w[2]]),
        }
        for name, future in futures.items():
            report[name] = outcome(future)
        for name, future in futures.items():
            report[name]["events"] = wait_for_event(c, future.key, 1)

        # Round 2, distributed's default allowed-failures (3): one task kills
        # four workers in turn, then the client gets KilledWorker.
        c.run_on_scheduler(set_allowed_failures, default)
        c.wait_for_workers(WORKERS, timeout=120)
        w = sorted(c.scheduler_info()["workers"])
        values = c.submit(make_input, 10, key="retried-input", workers=[w[4]])
        # Four workers may run it; the fifth stays alive to write the snapshots.
        future = c.submit(exit_now, values, key="retried-task", workers=w[:4])
        report["retried"] = outcome(future)
        report["retried"]["events"] = wait_for_event(c, future.key, 3)
        report["fetched"] = [str(p) for p in cluster_hook.fetch_snapshots(c, out_path + ".d")]
    with open(out_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
