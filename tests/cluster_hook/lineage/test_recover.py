"""``cluster_hook._lineage.recover``: the scheduler recomputes released keys on request.

The deaths call it from the ``remove-worker`` event (tests/end_to_end/
test_death_lineage.py); here another feature's way, on a running cluster:
keys its client released are recomputed from their lineage, and a key over
the bounds is named with the reason, not recomputed.
"""

from __future__ import annotations

import time
from typing import Any

from distributed import Client, LocalCluster

from cluster_hook._lineage.recover import recover, release, wait_recovered


def inc(x: int) -> int:
    return x + 1


async def _recover(keys: list[str], max_bytes: int | None, dask_scheduler: Any = None) -> Any:
    recovery = recover(dask_scheduler, keys, client="test-lineage", max_bytes=max_bytes)
    holders = await wait_recovered(dask_scheduler, recovery, 30)
    release(dask_scheduler, recovery)
    return recovery.recomputing, recovery.missing, holders


def _states(keys: list[str], dask_scheduler: Any = None) -> list[str]:
    return [dask_scheduler.tasks[k].state for k in keys]


def test_released_keys_are_recomputed_from_lineage_within_bounds() -> None:
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        a = client.submit(inc, 1, key="lin-a")
        b = client.submit(inc, a, key="lin-b")
        c = client.submit(inc, b, key="lin-c")
        assert c.result() == 4
        del a, b
        deadline = time.monotonic() + 30
        while client.run_on_scheduler(_states, ["lin-a", "lin-b"]) != ["released"] * 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)

        recomputing, missing, holders = client.run_on_scheduler(_recover, ["lin-b"], None)
        assert missing == {}
        assert recomputing["lin-b"]["function"] == "inc"
        assert recomputing["lin-b"]["from"] == ["lin-a"]
        assert recomputing["lin-b"]["tasks"] == 2  # lin-b and its released input lin-a
        assert list(holders) == ["lin-b"]

        # Over the size bound: named, not recomputed (an int's last known size is > 1 byte).
        del recomputing, holders
        while client.run_on_scheduler(_states, ["lin-b"]) != ["released"]:
            assert time.monotonic() < deadline + 30
            time.sleep(0.05)
        recomputing, missing, holders = client.run_on_scheduler(_recover, ["lin-b"], 1)
        assert recomputing == {} and holders == {}
        assert "its last known size" in missing["lin-b"]
        assert "snapshot.max-object-size" in missing["lin-b"]
