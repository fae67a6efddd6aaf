"""One snapshot budget per failure for the whole cluster, kept by the scheduler (``_storms``).

Real schedulers and workers (``gen_cluster``); the scheduler runs
``StormBudget`` as ``dask scheduler --preload cluster_hook`` and
``register(client)`` install it.  Across hosts with directories of their own
(the case this exists for) see tests/end_to_end/test_storm_cluster.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from distributed import Client, wait
from distributed.utils_test import gen_cluster, inc
from hook_helpers import NOTE
from hook_userfuncs import recip

import snapshot
from cluster_hook import PLUGIN_NAME, SUFFIX, SnapshotPlugin, StormBudget, storm_counts
from cluster_hook._names import STORM_HANDLER, STORM_TOPIC
from snapshot._capture.storm import STORM_DIR


async def _hooked(c: Client, workers: list[Any], **settings: Any) -> None:
    await c.register_plugin(StormBudget())
    await c.register_plugin(SnapshotPlugin(**settings))
    # Each worker asks the scheduler once, at setup, whether it keeps a budget.
    while not all(w.plugins[PLUGIN_NAME]._capturer.guard._cluster for w in workers):
        await asyncio.sleep(0.01)


async def _notes(futures: list[Any]) -> list[str]:
    return [n for f in futures for n in getattr(await f.exception(), "__notes__", [])]


@gen_cluster(client=True, nthreads=[("", 2), ("", 2)])
async def test_the_scheduler_admits_the_first_few_and_counts_every_failure(
    c: Client, s: Any, a: Any, b: Any, snapshot_dir: Path
) -> None:
    await _hooked(c, [a, b], directory=str(snapshot_dir), max_per_fingerprint=3)
    storm = c.map(recip, [0] * 100, pure=False)
    await wait(storm)

    files = sorted(snapshot_dir.glob(f"*{SUFFIX}"))
    assert len(files) == 3
    tasks = [snapshot.read_model(p).task for p in files]
    assert all(t is not None and t.storm_scope == "cluster" for t in tasks)
    assert sorted(t.occurrence for t in tasks if t is not None) == [1, 2, 3]
    notes = await _notes(storm)
    assert sum(bool(NOTE.match(n)) for n in notes) == 3
    counted = [n for n in notes if n.startswith("dask-replay: no snapshot written")]
    assert len(counted) == 97
    assert all("already written in the cluster" in n for n in counted)
    # The cluster decided: the directory's own counters were never bumped.
    fingerprints = {t.fingerprint for t in tasks if t is not None}
    assert not [
        p for p in (snapshot_dir / STORM_DIR).rglob("*") if p.name in fingerprints and p.is_file()
    ]

    (fp,) = fingerprints
    # Failures past a spent budget are counted through the workers' batched
    # streams, without a reply: the last ones arrive a moment after the futures.
    counts = await storm_counts(c)
    while counts[fp]["failures"] < 100:
        await asyncio.sleep(0.05)
        counts = await storm_counts(c)
    assert counts[fp]["failures"] == 100
    assert counts[fp]["written"] == 3
    assert counts[fp]["workers"] == 2
    # Where the written ones are, from the workers' own snapshot events.
    assert sorted(p.split(":", 1)[1] for p in counts[fp]["places"]) == sorted(map(str, files))
    # The counts reach users as events, once a second for what changed.
    while not [e for _, e in s.get_events(STORM_TOPIC) if e["failures"] == 100]:
        await asyncio.sleep(0.1)
    assert await c.submit(inc, 1) == 2


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_scheduler_that_fails_to_answer_leaves_the_per_host_limit(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await _hooked(c, [a], directory=str(snapshot_dir), max_per_fingerprint=2)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the scheduler's budget is broken")

    s.handlers[STORM_HANDLER] = broken
    storm = c.map(recip, [0] * 5, pure=False)
    await wait(storm)
    files = sorted(snapshot_dir.glob(f"*{SUFFIX}"))
    assert len(files) == 2
    for path in files:
        task = snapshot.read_model(path).task
        assert task is not None and task.storm_scope == "host"
        assert task.storm_note is not None and "per-host limit applied" in task.storm_note
    notes = await _notes(storm)
    assert sum("max-per-fingerprint" in n for n in notes) == 3
    assert await c.submit(inc, 1) == 2


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_without_the_scheduler_part_workers_keep_their_own_limit(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), max_per_fingerprint=2))
    while not a.plugins[PLUGIN_NAME]._capturer.guard.scope.startswith("Scheduler-"):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # past the probe for the scheduler's budget
    assert a.plugins[PLUGIN_NAME]._capturer.guard._cluster is None
    storm = c.map(recip, [0] * 4, pure=False)
    await wait(storm)
    files = sorted(snapshot_dir.glob(f"*{SUFFIX}"))
    assert len(files) == 2
    assert all(snapshot.read_model(p).task.storm_scope == "host" for p in files)  # type: ignore[union-attr]
