"""snapshot.capture-timeout on a real process cluster: a pickling that blocks
holds a helper thread, never the task; one that is slow runs once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster
from distributed.utils_test import inc
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import make, recip_holding

import cluster_hook
import snapshot

BUDGET = 2.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    directory = tmp_path_factory.mktemp("budget") / "snapshots"
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        Client(lc) as client,
    ):
        cluster_hook.register(client, directory=str(directory), capture_timeout=BUDGET)
        yield client, directory


def _fail_holding(client: Client, obj: Any, key: str) -> tuple[ZeroDivisionError, float]:
    started = time.monotonic()
    with pytest.raises(ZeroDivisionError) as info:
        client.submit(recip_holding, 0, obj, key=key).result(timeout=120)
    return info.value, time.monotonic() - started


def _worker_pids(client: Client) -> dict[str, int]:
    return client.run(os.getpid)


def test_a_getstate_that_blocks_forever_does_not_hold_the_task(
    cluster: tuple[Client, Path],
) -> None:
    client, _ = cluster
    pids = _worker_pids(client)
    control, control_time = _fail_holding(client, client.submit(make, "list"), "control")
    blocked, blocked_time = _fail_holding(client, client.submit(make, "blocks"), "blocked")

    assert type(blocked) is type(control) and blocked.args == control.args
    # Generous: the budget, its half-second grace, the manifest written, and a
    # loaded 2-core machine; without the budget this would never return.
    assert blocked_time < control_time + BUDGET + 3.0, (blocked_time, control_time)
    (path,) = snapshot_paths_in_notes(blocked)
    (stopped,) = [n for n in blocked.__notes__ if "snapshot.capture-timeout" in n]
    assert "abandoned after 2 s" in stopped and "while capturing" in stopped
    manifest = snapshot.read_manifest(path)
    assert manifest["error"]["type"] == "ZeroDivisionError"
    assert [f["function"] for f in manifest["frames"]][-1] == "recip_holding"
    # The worker was not restarted and its only task thread is free.
    assert _worker_pids(client) == pids
    assert client.submit(inc, 1, key="after-blocked").result(timeout=30) == 2


def test_a_getstate_that_sleeps_runs_once(cluster: tuple[Client, Path], tmp_path: Path) -> None:
    client, _ = cluster
    counter = tmp_path / "getstate-calls"
    slow = client.submit(make, "sleeps", 1.0, str(counter))
    exc, _ = _fail_holding(client, slow, "slow")
    (path,) = snapshot_paths_in_notes(exc)
    assert counter.read_bytes() == b"."  # one pickling, whatever holds the object
    manifest = snapshot.read_manifest(path)
    assert manifest["capture"]["complete"], manifest["capture"]
