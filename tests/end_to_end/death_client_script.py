"""Tasks that kill their workers, run as ``__main__`` against a real scheduler.

Usage: ``python death_client_script.py SCHEDULER_ADDRESS OUT.json SCENARIO...``
with scenarios ``exit`` (``os._exit(1)``, its input held by the other worker),
``segv`` (``ctypes.string_at(0)``, its input held by its own worker only), ``memory`` (allocates past the worker's
``--memory-limit`` until the nanny kills it) and ``retried`` (``os._exit(1)``
on every worker that tries it).  The functions live in ``__main__`` and travel
by value, as a notebook's do.  For each scenario the report holds what the
client saw (exception type and text) and the ``snapshot`` events naming it.
"""

import ctypes
import json
import os
import sys
import time

import numpy as np
from distributed import Client

import cluster_hook


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


def main(address, out_path, scenarios):
    report = {}
    with Client(address, timeout=60) as c:
        c.wait_for_workers(2, timeout=60)
        report["ok"] = outcome(c.submit(ok, 1, key="ok-1"))
        for name in scenarios:
            c.wait_for_workers(2, timeout=60)
            workers = sorted(c.scheduler_info()["workers"])
            if name == "exit":
                values = c.submit(make_input, 1000, key="exit-input", workers=[workers[1]])
                values.result()
                future = c.submit(exit_now, values, key="exit-task", workers=[workers[0]])
                count = 1
            elif name == "segv":
                # The input lives only on the worker that dies: it is lost.
                values = c.submit(make_input, 5, key="segv-input", workers=[workers[0]])
                values.result()
                future = c.submit(segv, values, key="segv-task", workers=[workers[0]])
                count = 1
            elif name == "memory":
                future = c.submit(hog, 8 * 2**20, key="memory-task")
                count = 1
            else:
                values = c.submit(make_input, 10, key="retried-input")
                future = c.submit(exit_now, values, key="retried-task")
                count = 3
            report[name] = outcome(future)
            report[name]["events"] = wait_for_event(c, future.key, count)
        report["fetched"] = [str(p) for p in cluster_hook.fetch_snapshots(c, out_path + ".d")]
    with open(out_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
