"""The error storm: every task fails with the same bug, with the hook and without.

The hook writes the first ``snapshot.max-per-fingerprint`` failures of a
fingerprint and only counts the rest; a storm must cost little more than the
failures themselves and leave a bounded number of files.  The scheduler loads
the hook too, as documented, so the budget is the cluster's: one round trip to
the scheduler per failure, on the failure path only.
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
# msgpack payloads of the storm budget's messages (cluster_hook._storms), measured
# with msgpack.packb on a request and replies as distributed's rpc builds them
# (a worker address of 26 characters, a place of 123), before the comm's framing.
REQUEST_BYTES = 109
REPLY_BYTES = 42
REPLY_MAX_BYTES = 42 + 3 * 123
COUNT_BYTES = 60  # {"op": "dask_replay_storm_count", "counts": {fingerprint: n}}
# Each worker asks until its first refusal names where the snapshots are: a
# few failures each, in the worst case every worker's first few.
ASKS_AT_SCALE = 1_000 * 4
MILLION_MB = ASKS_AT_SCALE * (REQUEST_BYTES + REPLY_MAX_BYTES) / 1e6


def run(ws: Workspace) -> Section:
    from distributed import wait

    from cluster_hook import SUFFIX, Settings

    section = Section("storm", "Error storm")
    n = ws.scale.tasks
    limit = Settings.from_config().max_per_fingerprint
    counter = itertools.count()

    def storm(hook: bool) -> Outcome:
        directory = ws.fresh_dir(f"storm/{'hook' if hook else 'plain'}-{next(counter)}")
        with local_cluster(hook=hook, directory=directory, scheduler_hook=hook) as client:
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
    bound = limit  # the cluster's budget, whatever the number of workers
    section.rows.append(
        Row(
            "snapshots on disk after the storm",
            ", ".join(map(str, counts)) + " (per round)",
            f"max-per-fingerprint {limit}, for the cluster",
            "-",
            f"<= {bound}",
            bool(counts) and max(counts) <= bound,
        )
    )
    section.notes += [
        "Cost of the cluster's budget at scale, from its design. A worker asks the scheduler "
        f"about a fingerprint (a request of {REQUEST_BYTES} bytes of msgpack payload: the "
        "handler's name, a 20-character fingerprint, the limit and the worker's address; a "
        f"reply of {REPLY_BYTES} bytes, up to {REPLY_MAX_BYTES} with the places of the written "
        "snapshots) until it learns that the budget is spent and where the snapshots are; "
        "from then on it counts its failures itself and sends the counts on its batched "
        f"stream at most 5 times a second ({COUNT_BYTES} bytes a message), with no reply "
        "and no wait. Nothing is "
        "sent for a task that succeeds. 1,000,000 failing tasks of one bug on 1,000 workers: "
        f"at most about {ASKS_AT_SCALE:,} round trips (the first failures on each worker, "
        "before the written snapshots are known), about "
        f"{MILLION_MB:.1f} MB in all, and then at most 5,000 messages of counts a second "
        "whatever the rate of failures; the scheduler keeps one small "
        "record per fingerprint (at most 10,000) and publishes each changed fingerprint's "
        "counts once a second.",
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
