"""The success path: many tiny tasks that all succeed, with the hook and without.

The hook's whole cost on success is one ``transition`` call per task state
change on the worker's event loop and one wrapper call around each task.
Measured twice:

* on one cluster, the plugin registered and unregistered between rounds
  (``cluster_hook.register``): the same worker processes run both arms, so
  only the hook differs; this row carries the target;
* on two clusters side by side, one started with the hook as a preload (the
  way users turn it on) and one without: a cross-check, exposed to whatever
  differs between two sets of worker processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._clusters import has_hook, local_cluster
from ._harness import Series, alternate, ratio
from ._report import Row, Section
from ._userfuncs import inc
from ._workspace import Workspace

TARGET = 1.02
SETTLE = 1.0  # seconds for the scheduler to release the last round's keys
#: The two-cluster cross-check gets fewer rounds: 10,000 tasks take ~16 s a round
#: on a 2-core machine, and the whole benchmark should stay near 15 minutes.
CROSS_CHECK_ROUNDS = 3


def _job(
    client: Any, n: int, before: Callable[[], None] | None = None
) -> Callable[[], tuple[float, dict[str, float]]]:
    def once() -> tuple[float, dict[str, float]]:
        if before is not None:
            before()
        cpu = _workers_cpu(client)
        start = time.perf_counter()
        results = client.gather(client.map(inc, range(n), pure=False))
        elapsed = time.perf_counter() - start
        cpu = _workers_cpu(client) - cpu
        if results[-1] != n:
            raise RuntimeError("wrong results")
        del results
        time.sleep(SETTLE)
        return elapsed, {"cpu": cpu}

    return once


def _process_time(dask_worker: Any = None) -> float:
    return time.process_time()


def _workers_cpu(client: Any) -> float:
    """CPU seconds used so far by all worker processes, every thread, summed."""
    return float(sum(client.run(_process_time).values()))


def _cpu(s: dict[str, Series]) -> dict[str, Series]:
    """The rounds' worker CPU times as series of their own (same rounds, same order)."""
    return {name: Series(f"{name}, CPU", series.fact("cpu")) for name, series in s.items()}


def run(ws: Workspace) -> Section:
    import cluster_hook

    section = Section("success", "Success path")
    n = ws.scale.tasks
    call = f"`client.gather(client.map(inc, range({n}), pure=False))`"
    directory = ws.fresh_dir("success-snapshots")

    ws.log("success: one cluster, the plugin registered and unregistered between rounds")
    with local_cluster(hook=False) as client:

        def hook_on() -> None:
            if not all(client.run(has_hook).values()):
                cluster_hook.register(client, directory=str(directory))
            if not all(client.run(has_hook).values()):
                raise RuntimeError("the plugin did not register on every worker")

        def hook_off() -> None:
            if any(client.run(has_hook).values()):
                client.unregister_worker_plugin(cluster_hook.PLUGIN_NAME)
            if any(client.run(has_hook).values()):
                raise RuntimeError("the plugin is still registered")

        toggled = alternate(
            {"with hook": _job(client, n, hook_on), "without": _job(client, n, hook_off)},
            ws.scale.rounds,
            warmup=ws.scale.warmup,
            progress=lambda m: ws.log(f"success (one cluster): {m}"),
        )
    _row(section, f"{n:,} tasks, one cluster, hook toggled: {call}", toggled, target=True)
    _row(
        section,
        f"the same rounds: CPU time of the workers (all their threads) over the {n:,} tasks",
        _cpu(toggled),
        target=True,
    )
    section.notes.append(_per_task(toggled, n, "one cluster"))

    ws.log("success: two clusters (started with and without the hook as a preload)")
    with (
        local_cluster(hook=True, directory=directory) as hooked,
        local_cluster(hook=False) as plain,
    ):
        two = alternate(
            {"with hook": _job(hooked, n), "without": _job(plain, n)},
            min(ws.scale.rounds, CROSS_CHECK_ROUNDS),
            warmup=ws.scale.warmup,
            progress=lambda m: ws.log(f"success (two clusters): {m}"),
        )
    _row(section, f"{n:,} tasks, two clusters, hook as a preload: {call}", two, target=False)
    section.notes.append(_per_task(two, n, "two clusters"))

    written = sorted(directory.glob(f"*{cluster_hook.SUFFIX}"))
    section.notes += [
        "Clusters: `LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`. "
        "Timed: the map and the gather, from the client. Rounds alternate between the two "
        f"arms, the first one switching each round; {ws.scale.warmup} warm-up round(s) per "
        f"arm not counted. Between rounds the client drops its futures and waits "
        f"{SETTLE:.0f} s (not timed) so that releasing them does not overlap the next round.",
        "One cluster: before each round the plugin is registered with "
        "`cluster_hook.register(client)` or removed with "
        "`client.unregister_worker_plugin('dask-replay')` (not timed; checked on every "
        "worker). This is the same plugin object a preload installs, in the same worker "
        "processes for both arms, so the ratio isolates the hook's cost: the target row.",
        "Two clusters run side by side for their whole part: one whose workers load "
        "`cluster_hook` through `distributed.worker.preload` (checked on every worker), one "
        "without; the idle one costs the running one only its heartbeats. Two sets of worker "
        "processes can differ by a few percent for reasons of their own (placement, memory "
        "layout), which rounds do not average out: a cross-check of the row above, with "
        f"{min(ws.scale.rounds, CROSS_CHECK_ROUNDS)} rounds to keep the run short.",
        "CPU rows: the sum over the worker processes of `time.process_time()` (every "
        "thread: the tasks', the event loop's), read with `client.run` just before the map "
        "and just after the gather, not timed. The wall time of 10,000 tasks is mostly the "
        "scheduler's and the client's round trips, which the hook does not touch and which "
        "other processes on a shared machine stretch; the workers' CPU time holds all the "
        "hook does on success (the plugin's `transition` for each transition, the "
        "wrapper's allocation and its extra call) and little of the noise.",
        f"Snapshots written during the section: {len(written)} (expected none).",
    ]
    return section


def _per_task(s: dict[str, Series], n: int, label: str) -> str:
    """The difference of the medians per task, in microseconds of wall time."""
    delta = (s["with hook"].median - s["without"].median) / n * 1e6
    return f"{label}: the hook's cost is {delta:+.0f} us of wall time per task (difference of the medians / {n:,})."


def _row(section: Section, label: str, s: dict[str, Series], *, target: bool) -> None:
    r = ratio(s["with hook"], s["without"])
    section.rows.append(
        Row(
            label,
            s["with hook"].describe(),
            s["without"].describe(),
            r.describe(),
            f"<= {TARGET}" if target else "",
            (r.median <= TARGET) if target else None,
        )
    )
