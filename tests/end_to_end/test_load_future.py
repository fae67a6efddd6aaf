"""``replay.load(future)`` and ``replay.load(future.exception())``: from the failure to its replay.

A LocalCluster with the hook runs the seed's ``recip(0)``; the hook's note on
the exception names the snapshot, which is on this machine.  A snapshot on
another host, a future that did not fail and an exception without a note are
errors that say what to do.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import dask
import distributed
import pytest

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
        with pytest.raises(snapshot.SnapshotNotFoundError, match="did not fail"):
            replay.load(succeeded)
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
