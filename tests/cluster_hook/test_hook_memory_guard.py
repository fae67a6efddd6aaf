"""The memory bound, in-process: a capture never starts without headroom below
the nanny's terminate threshold, and stops when it comes close to it.

The worker's memory limit is set from this process's RSS at the start of each
test, so that the headroom is known; pause and spill are off (they would
stop the worker from running the task at all).  The nanny's restart itself is
exercised in tests/end_to_end/test_hook_memory.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil
import pytest
from distributed import Client, Worker
from distributed.utils_test import gen_cluster
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import AllocatesWhenPickled, make, recip_of_two, release_held

import snapshot
from cluster_hook import SnapshotPlugin
from snapshot import MemoryGuard

MiB = 2**20
NO_PAUSE = {
    "distributed.worker.memory.pause": False,
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.target": False,
    "distributed.worker.memory.terminate": 0.95,
}


def _limit_for_headroom(headroom: int) -> int:
    """A memory limit that leaves ``headroom`` bytes below the cancel line now."""
    rss = psutil.Process().memory_info().rss
    guard = MemoryGuard(limit=1, terminate=0.95)
    return int((rss + headroom + guard.margin) / 0.95)


@gen_cluster(client=True, nthreads=[], config=NO_PAUSE)
async def test_no_headroom_means_a_manifest_only_snapshot_and_the_users_error(
    c: Client, s: Any, snapshot_dir: Path
) -> None:
    async with Worker(
        s.address, nthreads=1, memory_limit=_limit_for_headroom(MemoryGuard.RESERVE // 4)
    ):
        await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
        with pytest.raises(ZeroDivisionError) as info:
            await c.submit(recip_of_two, 0, 1, 2)
    (path,) = snapshot_paths_in_notes(info.value)
    assert any("not captured: the worker's memory" in n for n in info.value.__notes__)
    manifest = snapshot.read_manifest(path)
    assert manifest["error"]["type"] == "ZeroDivisionError"
    assert all(p["status"] != "stored" for p in manifest["pieces"].values())
    assert "terminate" in manifest["pieces"][manifest["call"]["func"]]["reason"]


@gen_cluster(client=True, nthreads=[], config=NO_PAUSE)
async def test_a_capture_that_grows_the_worker_too_far_is_stopped(
    c: Client, s: Any, snapshot_dir: Path
) -> None:
    limit = _limit_for_headroom(MemoryGuard.RESERVE + 64 * MiB)
    try:
        async with Worker(s.address, nthreads=1, memory_limit=limit):
            await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
            grows = c.submit(AllocatesWhenPickled, 400 * MiB, key="grows")
            second = c.submit(make, "list", key="second")
            with pytest.raises(ZeroDivisionError) as info:
                await c.submit(recip_of_two, 0, grows, second, key="fails")
    finally:
        release_held()
    (path,) = snapshot_paths_in_notes(info.value)
    (stopped,) = [n for n in info.value.__notes__ if "capture stopped" in n]
    assert "the worker's memory" in stopped and "restart threshold" in stopped
    manifest = snapshot.read_manifest(path)
    assert manifest["error"]["type"] == "ZeroDivisionError"
    assert not manifest["capture"]["complete"]
