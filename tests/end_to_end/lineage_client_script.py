"""Tasks that kill their workers with Dask's own placement, run as ``__main__``.

Usage: ``python lineage_client_script.py SCHEDULER_ADDRESS OUT.json`` against
two worker processes (``--memory-limit 400MB``).  No task is pinned with
``workers=``: an input computed just before usually sits on the worker that
then runs the task and dies with it.  The report holds, per scenario, what
the client saw and the ``snapshot`` events naming its task.
"""

import io
import json
import os
import random
import sys
import time
from pathlib import Path

import dask
from distributed import Client

import replay


def upstream():
    return 7


def grow(n_mb, base):
    chunks = []
    for _ in range(n_mb):
        chunks.append(bytearray(2**20))
    return base + len(chunks)


def base_value():
    return 3


def double(x):
    return 2 * x


def leave(x):
    os._exit(1)
    return x


def noise():
    return random.random()


def big():
    return b"x" * (150 * 2**20)


def ok(x):
    return x + 1


def set_allowed_failures(n, dask_scheduler=None):
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = n
    return previous


def events_for(client, key, count=1, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        found = [e for _, e in client.get_events("snapshot") if e.get("key") == key]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def outcome(future):
    try:
        return {"type": None, "result": repr(future.result(timeout=180))}
    except Exception as exc:
        return {"type": type(exc).__name__, "text": str(exc)}


def main(address, out_path, directory):
    report = {}
    with Client(address, timeout=60) as c:
        c.wait_for_workers(2, timeout=120)
        # Nothing dies: nothing is written.
        report["ok"] = outcome(c.submit(ok, 1, key="ok-1"))
        time.sleep(1)
        report["written_before_deaths"] = sorted(os.listdir(directory))

        default = c.run_on_scheduler(set_allowed_failures, 0)
        # The scenario: the input on the worker that dies with the task.
        up = c.submit(upstream, key="upstream-1")
        fut = c.submit(grow, 2000, up, key="grow-1")
        report["oom"] = outcome(fut)
        report["oom"]["events"] = events_for(c, "grow-1")

        c.wait_for_workers(2, timeout=120)
        # A chain of two lost inputs: chain-a released, chain-b held by the dead worker.
        a = c.submit(base_value, key="chain-a")
        b = c.submit(double, a, key="chain-b")
        b.result()
        d = c.submit(leave, b, key="chain-leave")
        del a, b
        report["chain"] = outcome(d)
        report["chain"]["events"] = events_for(c, "chain-leave")

        c.wait_for_workers(2, timeout=120)
        # An impure input: recomputed, flagged, and (here) another value.
        r = c.submit(noise, key="noise-1", pure=False)
        report["noise_value"] = r.result()
        d = c.submit(leave, r, key="noise-leave")
        del r
        report["noise"] = outcome(d)
        report["noise"]["events"] = events_for(c, "noise-leave")

        c.wait_for_workers(2, timeout=120)
        # An input over the bounds: named missing, nothing hangs.  A 150 MB input
        # does not always draw its task to its worker: both go to the same one.
        w0 = sorted(c.scheduler_info()["workers"])[0]
        g = c.submit(big, key="big-1", workers=[w0], allow_other_workers=True)
        g.result()
        d = c.submit(leave, g, key="big-leave", workers=[w0])
        del g
        report["big"] = outcome(d)
        report["big"]["events"] = events_for(c, "big-leave")

        # distributed's default allowed-failures (3): four deaths, then KilledWorker.
        c.run_on_scheduler(set_allowed_failures, default)
        report["default_allowed_failures"] = default
        c.wait_for_workers(2, timeout=120)
        fut = c.submit(leave, 1, key="four-leave")
        try:
            fut.result(timeout=180)
        except Exception as exc:
            report["four"] = {"type": type(exc).__name__, "text": str(exc)}
            # From KilledWorker to its snapshot in one step, while the cluster is up.
            report["four"]["loaded_exc"] = str(replay.load(exc).path)
            report["four"]["loaded_future"] = str(replay.load(fut).path)
            # replay.debug(future) re-runs that death's call (no debugger: its
            # os._exit raises ProcessExit under the death's conditions).
            said = io.StringIO()
            debugged = replay.debug(fut, debugger=False, out=said, err=said)
            report["four"]["debugged"] = {"verdict": debugged.verdict.name, "said": said.getvalue()}
        report["four"]["events"] = events_for(c, "four-leave", 4)

        c.wait_for_workers(2, timeout=120)
        # With the client part: replay.load(future) while the cluster is up, and
        # after the client closed (distributed cancels its futures) from its copy.
        c.run_on_scheduler(set_allowed_failures, 0)
        with dask.config.set({"distributed.client.preload": ["cluster_hook"]}):
            part = Client(address, timeout=60)
        fut = part.submit(leave, 5, key="closed-leave")
        report["closed"] = outcome(fut)
        report["closed"]["events"] = events_for(part, "closed-leave")
        report["closed"]["while_up"] = str(replay.load(fut).path)
        said = io.StringIO()
        debugged = replay.debug(fut, debugger=False, out=said, err=said)
        report["closed"]["debugged"] = {"verdict": debugged.verdict.name, "said": said.getvalue()}
        part._dask_replay_copies.wait(60)
        part.close()
        report["closed"]["after_close"] = str(replay.load(fut).path)
        c.run_on_scheduler(set_allowed_failures, default)

        up = c.submit(upstream, key="upstream-3")
        fut = c.submit(grow, 2000, up, key="grow-3")
        report["oom3"] = outcome(fut)
        report["oom3"]["events"] = events_for(c, "grow-3", 4)
    Path(out_path).write_text(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
