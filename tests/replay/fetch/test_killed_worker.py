"""``replay.load(exc)`` for distributed's ``KilledWorker``: no note, found by its task's key.

The live-cluster paths (the scheduler's ``snapshot`` events, the client
part's copies after the client closed) run in
tests/end_to_end/test_death_lineage.py; here, without a cluster: the client
part's copy is found by the key, and without one the error says what to do,
at once (no live client: nothing to wait for).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed.scheduler import KilledWorker
from jobs import write_snapshot

import replay
import snapshot


def test_a_killed_worker_is_found_among_the_client_copies_by_its_key(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    copies = tmp_path / "copies"
    copies.mkdir()
    copy = write_snapshot(copies / "20261207T000000-leave-1-vm-1-ab.tar.zst", job["recip"], (0,))
    snapshot.write_keys(copy, ["leave-1"])
    with dask.config.set({"snapshot.client-directory": str(copies)}):
        loaded = replay.load(KilledWorker("leave-1", None, 3))
    assert loaded.path == str(copy)


def test_without_a_client_or_a_copy_it_says_where_to_look_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with (
        dask.config.set({"snapshot.client-directory": str(tmp_path)}),
        pytest.raises(snapshot.SnapshotNotFoundError) as caught,
    ):
        replay.load(KilledWorker("other-1", None, 0))
    assert time.monotonic() - started < 30  # no live client: nothing is waited for
    message = str(caught.value)
    assert "no death snapshot of task 'other-1'" in message
    assert "(no live client to ask)" in message
    assert "python -m replay list" in message


SHELL = """\
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "replay")
shell.run_cell(
    "from distributed.scheduler import KilledWorker\\nraise KilledWorker('gone-1', None, 0)"
)
shell.run_line_magic("replay", "")
"""


def test_percent_replay_takes_the_last_killed_worker(tmp_path: Path) -> None:
    env_config = {"DASK_SNAPSHOT__CLIENT_DIRECTORY": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", SHELL],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env_config},
    )
    assert result.returncode == 0, result.stderr
    # %replay looked the KilledWorker up (and found no snapshot here), rather
    # than saying that no cell has failed on the cluster.
    assert "%replay: " in result.stdout
    assert "no death snapshot of task 'gone-1'" in result.stdout, result.stdout


def test_a_cluster_without_the_death_watch_is_told_at_once(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    started = time.monotonic()
    with (
        dask.config.set({"snapshot.client-directory": str(tmp_path)}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster),
        pytest.raises(snapshot.SnapshotNotFoundError) as caught,
    ):
        replay.load(KilledWorker("lonely-1", None, 0))
    assert time.monotonic() - started < 60  # not the 90 s wait for an announcement
    assert "does not record worker deaths" in str(caught.value)
    assert "--preload cluster_hook" in str(caught.value)
