"""The error storm: every task fails with the same bug, with the hook and without.

The hook writes the first ``snapshot.max-per-fingerprint`` failures of a
fingerprint and only counts the rest; a storm must cost little more than the
failures themselves and leave a bounded number of files.
"""

from __future__ import annotations

import itertools
import time

from ._clusters import local_cluster
from ._harness import Outcome, alternate, ratio
from ._report import Row, Section
from ._userfuncs import inc, storm_bug
from ._workspace import Workspace

TARGET = 1.10
WORKERS = 2


def run(ws: Workspace) -> Section:
    from distributed import wait

    from cluster_hook import SUFFIX, Settings

    section = Section("storm", "Error storm")
    n = ws.scale.tasks
    limit = Settings.from_config().max_per_fingerprint
    counter = itertools.count()

    def storm(hook: bool) -> Outcome:
        directory = ws.fresh_dir(f"storm/{'hook' if hook else 'plain'}-{next(counter)}")
        with local_cluster(hook=hook, directory=directory) as client:
            client.gather(client.map(inc, range(100), pure=False))  # workers up and warm
            start = time.perf_counter()
            futures = client.map(storm_bug, range(n), pure=False)
            wait(futures)
            elapsed = time.perf_counter() - start
            erred = sum(f.status == "error" for f in futures)
            del futures
        files = len(list(directory.glob(f"*{SUFFIX}")))
        if erred != n:
            raise RuntimeError(f"{erred} of {n} tasks failed; expected all")
        return elapsed, {"snapshots": files}

    s = alternate(
        {"with hook": lambda: storm(True), "without": lambda: storm(False)},
        ws.scale.storm_rounds,
        progress=lambda m: ws.log(f"storm: {m}"),
    )
    hooked = s["with hook"]
    r = ratio(hooked, s["without"])
    section.rows.append(
        Row(
            f"{n:,} tasks failing with the same bug, map + wait",
            hooked.describe(),
            s["without"].describe(),
            r.describe(),
            f"<= {TARGET}",
            r.median <= TARGET,
        )
    )
    delta = (hooked.median - s["without"].median) / n * 1e6
    section.notes.append(
        f"The hook's cost in the storm: {delta:+.0f} us of wall time per failed task "
        f"(difference of the medians / {n:,})."
    )
    counts = hooked.fact("snapshots")
    bound = limit * WORKERS
    section.rows.append(
        Row(
            "snapshots on disk after the storm",
            ", ".join(map(str, counts)) + " (per round)",
            f"max-per-fingerprint {limit} x {WORKERS} workers",
            "-",
            f"<= {bound}",
            bool(counts) and max(counts) <= bound,
        )
    )
    section.notes += [
        "Each round starts a fresh cluster (and a fresh snapshot directory), because the storm "
        "counts of a cluster persist: a second storm on the same cluster would only count. "
        "Rounds alternate between the cluster with the hook and the one without, the first "
        "one switching each round; cluster start and a warm-up map of 100 succeeding tasks "
        "are not timed.",
        "Timed: `client.map(storm_bug, range(n), pure=False)` and `distributed.wait` on all "
        "futures, every one of which must end in error. Workers log at level `critical` in both "
        "arms (otherwise each failure logs an error with its traceback).",
    ]
    return section
