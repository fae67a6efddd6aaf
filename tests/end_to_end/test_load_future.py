"""``replay.load(future)`` and ``replay.load(future.exception())``: from the failure to its replay.

A LocalCluster with the hook runs the seed's ``recip(0)``; the hook's note on
the exception names the snapshot, which is on this machine.  A snapshot on
another host, a future that did not fail and an exception without a note are
errors that say what to do.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import dask
import distributed
import pytest
from subprocess_cluster import stop

import replay
import snapshot

JOB_SOURCE = "def recip(x):\n    return 1 / x\n"


def test_a_failed_future_and_its_exception_load_while_up_and_after(tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    # Defined as a client's __main__ would define it: sent to the worker by value.
    job: dict[str, Any] = {"__name__": "client_script_load_future"}
    exec(compile(JOB_SOURCE, "/client/home/analysis.py", "exec"), job)
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": str(tmp_path / "snapshots"),
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        failed = client.submit(job["recip"], 0)
        distributed.wait(failed)
        loaded = replay.load(failed)
        assert Path(loaded.path).parent == tmp_path / "snapshots"
        assert loaded.replay().verdict is replay.Verdict.REPRODUCED
        exception = failed.exception()
        assert replay.load(exception).path == loaded.path
        # The shortcut, while the cluster is up (debugger=False: re-run, no prompt).
        assert replay.debug(failed, debugger=False).verdict is replay.Verdict.REPRODUCED

        succeeded = client.submit(job["recip"], 2)
        distributed.wait(succeeded)
        with pytest.raises(snapshot.SnapshotNotFoundError, match=r"did not fail.*capture"):
            replay.load(succeeded)
    # The client closed: distributed cancelled the future, which forgot its exception; without
    # the client part there is no copy to find by its key, and the message says what to do.
    with pytest.raises(snapshot.SnapshotNotFoundError, match="was cancelled") as info:
        replay.load(failed)
    assert "distributed.client.preload: [cluster_hook]" in str(info.value)
    # The cluster is gone; the exception the client raised still names the file.
    assert replay.load(exception).path == loaded.path
    assert replay.debug(exception, debugger=False).verdict is replay.Verdict.REPRODUCED
    shown = io.StringIO()
    replay.post_mortem(exception, debugger=False, out=shown, err=shown)
    assert "return 1 / x" in shown.getvalue() or "recip" in shown.getvalue(), shown.getvalue()


def test_a_snapshot_on_another_host_says_where_it_is() -> None:
    error = ZeroDivisionError("division by zero")
    error.add_note("dask-replay: snapshot written to node-17:/data/snaps/recip.tar.zst")
    with pytest.raises(snapshot.SnapshotNotFoundError) as info:
        replay.load(error)
    message = str(info.value)
    assert "/data/snaps/recip.tar.zst is on node-17" in message
    assert f"not on this machine ({socket.gethostname()})" in message
    assert "scp node-17:/data/snaps/recip.tar.zst ." in message


def test_an_exception_without_a_snapshot_says_why() -> None:
    with pytest.raises(snapshot.SnapshotNotFoundError, match="hook was not loaded"):
        replay.load(ValueError("plain"))
    limited = ValueError("too many")
    limited.add_note("dask-replay: no snapshot written: snapshot.max-per-fingerprint reached")
    with pytest.raises(snapshot.SnapshotNotFoundError, match="max-per-fingerprint reached"):
        replay.load(limited)
    with pytest.raises(TypeError, match="not int"):
        replay.load(3)  # type: ignore[arg-type]


def test_a_snapshot_only_on_the_workers_disk_is_fetched_while_the_cluster_is_up(
    tmp_path: Path,
) -> None:
    """The worker writes into a tmpfs of its own mount namespace, which this process cannot see."""
    from dask.distributed import Client, LocalCluster

    hidden = tmp_path / "worker-only"
    hidden.mkdir()
    copies = tmp_path / "copies"
    job: dict[str, Any] = {"__name__": "client_script_fetch"}
    exec(compile(JOB_SOURCE, "/client/home/analysis.py", "exec"), job)
    env = {**os.environ, "DASK_SNAPSHOT__DIRECTORY": str(hidden)}
    with (
        dask.config.set({"snapshot.client-directory": str(copies)}),
        LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        worker = subprocess.Popen(
            [
                "unshare", "--mount", "--propagation", "private", "sh", "-c",
                f'mount -t tmpfs tmpfs "{hidden}" && exec "$0" -m distributed.cli.dask_worker '
                f'"$1" --nworkers 1 --nthreads 1 --no-nanny --preload cluster_hook',
                sys.executable, cluster.scheduler_address,
            ],
            env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            client.wait_for_workers(1, timeout=120)
            failed = client.submit(job["recip"], 0)
            distributed.wait(failed)
            (note,) = [n for n in failed.exception().__notes__ if "written to" in n]
            written = note.split(":", 2)[2]
            assert not os.path.exists(written), "the worker's tmpfs is visible here"
            loaded = replay.load(failed)
            assert Path(loaded.path) == copies / os.path.basename(written)
            assert loaded.replay().verdict is replay.Verdict.REPRODUCED
        finally:
            client.retire_workers()
            stop(worker)
