"""The success path: many tiny tasks that all succeed, with the hook and without.

The hook's whole cost on success is one ``transition`` call per task state
change on the worker's event loop and one wrapper call around each task.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._clusters import local_cluster
from ._harness import alternate, ratio
from ._report import Row, Section
from ._userfuncs import inc
from ._workspace import Workspace

TARGET = 1.02
SETTLE = 1.0  # seconds for the scheduler to release the last round's keys


def run(ws: Workspace) -> Section:
    section = Section("success", "Success path")
    n = ws.scale.tasks
    directory = ws.fresh_dir("success-snapshots")
    ws.log("success: starting two clusters (with and without the hook)")
    with (
        local_cluster(hook=True, directory=directory) as hooked,
        local_cluster(hook=False) as plain,
    ):

        def job(client: object) -> Callable[[], float]:
            def once() -> float:
                start = time.perf_counter()
                results = client.gather(client.map(inc, range(n), pure=False))  # type: ignore[attr-defined]
                elapsed = time.perf_counter() - start
                if results[-1] != n:
                    raise RuntimeError("wrong results")
                del results
                time.sleep(SETTLE)
                return elapsed

            return once

        s = alternate(
            {"with hook": job(hooked), "without": job(plain)},
            ws.scale.rounds,
            warmup=ws.scale.warmup,
            progress=lambda m: ws.log(f"success: {m}"),
        )
    written = sorted(directory.glob("*.dask-snapshot"))
    r = ratio(s["with hook"], s["without"])
    section.rows.append(
        Row(
            f"{n:,} tasks `client.gather(client.map(inc, range({n}), pure=False))`",
            s["with hook"].describe(),
            s["without"].describe(),
            r.describe(),
            f"<= {TARGET}",
            r.median <= TARGET,
        )
    )
    section.notes += [
        "Two clusters, `LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`, run "
        "side by side for the whole section: one whose workers load `cluster_hook` through "
        "`distributed.worker.preload` (checked on every worker), one without. Rounds "
        "alternate between them, the first one switching each round; "
        f"{ws.scale.warmup} warm-up round(s) each not counted. The idle cluster costs the "
        "running one only its heartbeats.",
        "Timed: the map and the gather, from the client. Between rounds the client drops its "
        f"futures and waits {SETTLE:.0f} s (not timed) so that releasing them does not "
        "overlap the next round.",
        f"Snapshots written by the hooked cluster: {len(written)} (expected none).",
    ]
    return section
