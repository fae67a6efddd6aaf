"""Error storms write a bounded number of files; concurrent failures never collide."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from distributed import Client, wait
from distributed.utils_test import gen_cluster, inc
from hook_helpers import NOTE
from hook_userfuncs import recip, recip_with_lock

import snapshot
from cluster_hook import PLUGIN_NAME, SUFFIX, SnapshotPlugin
from snapshot._capture.storm import STORM_DIR, StormGuard


async def _hooked(c: Client, workers: list[Any], **settings: Any) -> None:
    await c.register_plugin(SnapshotPlugin(**settings))
    # Workers share storm counts once they know the scheduler's id.
    while not all(
        w.plugins[PLUGIN_NAME]._capturer.guard.scope.startswith("Scheduler-") for w in workers
    ):
        await asyncio.sleep(0.01)


async def _notes(futures: list[Any]) -> list[str]:
    return [n for f in futures for n in getattr(await f.exception(), "__notes__", [])]


@gen_cluster(client=True, nthreads=[("", 2), ("", 2)])
async def test_storm_keeps_the_first_few_per_fingerprint(
    c: Client, s: Any, a: Any, b: Any, snapshot_dir: Path
) -> None:
    await _hooked(c, [a, b], directory=str(snapshot_dir), max_per_fingerprint=3)
    storm = c.map(recip, [0] * 150, pure=False) + c.map(recip_with_lock, [0] * 30, pure=False)
    await wait(storm)
    assert all(f.status == "error" for f in storm)

    files = sorted(snapshot_dir.glob(f"*{SUFFIX}"))
    functions = sorted(snapshot.read_manifest(p)["frames"][-1]["function"] for p in files)
    assert functions == ["recip"] * 3 + ["recip_with_lock"] * 3
    notes = await _notes(storm)
    assert sum(bool(NOTE.match(n)) for n in notes) == 6
    skipped = [n for n in notes if n.startswith("dask-replay: no snapshot written")]
    assert len(skipped) == 174 and all("max-per-fingerprint" in n for n in skipped)
    # The rest are counted: one byte per failure in the scope's counter file.
    counters = sorted(
        p.stat().st_size for p in (snapshot_dir / STORM_DIR).glob("Scheduler-*/*") if p.is_file()
    )
    assert counters == [30, 150]
    # Bookkeeping stays bounded too: attempt counters exist for written snapshots only.
    assert len(list((snapshot_dir / STORM_DIR).glob("Scheduler-*/attempts/*"))) == 6
    assert await c.submit(inc, 1) == 2


@gen_cluster(client=True, nthreads=[("", 2), ("", 2)])
async def test_concurrent_failures_write_distinct_files(
    c: Client, s: Any, a: Any, b: Any, snapshot_dir: Path
) -> None:
    await _hooked(c, [a, b], directory=str(snapshot_dir), max_per_fingerprint=100)
    futures = c.map(recip, [0] * 12, pure=False)
    await wait(futures)
    paths = [NOTE.match(n)["path"] for n in await _notes(futures)]  # type: ignore[index]
    assert len(set(paths)) == 12
    assert sorted(map(str, snapshot_dir.glob(f"*{SUFFIX}"))) == sorted(paths)
    keys = {snapshot.read_manifest(p)["task"]["key"] for p in paths}
    assert keys == {f.key for f in futures}


def _bump_many(directory: str, n: int) -> list[int]:
    guard = StormGuard(Path(directory), max_per_fingerprint=10, max_directory_size=1)
    guard.set_scope("shared")
    return [guard.admit("fp").occurrence for _ in range(n)]


def test_occurrence_numbers_are_exact_across_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")  # fork in a threaded process may deadlock
    with ProcessPoolExecutor(4, mp_context=ctx) as pool:
        runs = list(pool.map(_bump_many, [str(tmp_path)] * 4, [100] * 4))
    seen = sorted(n for run in runs for n in run)
    assert seen == list(range(1, 401))  # no number given twice, none skipped
