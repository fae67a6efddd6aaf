"""A worker that writes a death snapshot and dies before it answers: one file, not two.

Real ``dask scheduler`` (``allowed-failures`` 0) and three ``dask worker
--preload cluster_hook`` processes sharing one ``snapshot.directory``:
``doomed`` runs a task that ends its process; ``slow`` holds that task's
inputs (``workers=``: the case is about placement, the scheduler asks the
worker holding the inputs to write), and its ``snapshot.upload`` goes to a
store that never answers (``stall_upload_preload.py``), so it hangs after the
file is complete.  Either the test kills ``slow`` there, as a second death
of the cluster would (CI saw it: the retried task killed the worker writing
the previous death's snapshot), or it lets ``slow`` hang past the
scheduler's bound (3 x ``snapshot.capture-timeout``, 2 s here).  Either way
the scheduler got no answer and asks ``writer``, which finds the file of that
very death and announces it instead of writing a second snapshot of it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, KilledWorker
from subprocess_cluster import free_port, stop, wait_for_workers

import snapshot

HERE = Path(__file__).resolve().parent
JOB = """\
import os


def make(n):
    return os.urandom(n)


def die(*values):
    os._exit(1)
"""


def _job() -> dict[str, Any]:
    """The functions as a client's ``__main__`` defines them: they travel by value."""
    job: dict[str, Any] = {"__name__": "client_script_death_writer_dies"}
    exec(compile(JOB, "/client/home/death_writer_dies.py", "exec"), job)
    return job


def _wait_for(what: str, found: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


@pytest.mark.parametrize("slow_writer", ["killed", "hanging"])
def test_a_writer_lost_after_the_write_leaves_one_snapshot_announced_by_the_next(
    tmp_path: Path, slow_writer: str
) -> None:
    directory = tmp_path / "snapshots"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(directory)
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"
    env["DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING"] = "False"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    names = ("scheduler", "doomed", "slow", "writer")
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in names}
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, command: list[str], **extra_env: str) -> None:
        procs[name] = subprocess.Popen(
            command,
            env={**env, **extra_env},
            stdout=logs[name],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    start(
        "scheduler",
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)],
        DASK_SNAPSHOT__CAPTURE_TIMEOUT="2s",
    )
    job = _job()
    try:
        for name in names[1:]:
            command = [
                *dask,
                "worker",
                address,
                *("--name", name, "--no-nanny", "--nthreads", "1", "--no-dashboard"),
                *("--host", "127.0.0.1", "--local-directory", str(tmp_path / "space")),
                *("--preload", "cluster_hook"),
            ]
            if name == "slow":
                command += ["--preload", str(HERE / "stall_upload_preload.py")]
                start(name, command, DASK_SNAPSHOT__UPLOAD="stall://bucket/snapshots")
            else:
                start(name, command)
        wait_for_workers(address, 3, env)
        with Client(address, timeout=60) as client:
            by_name = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
            inputs = [
                client.submit(job["make"], 1000, workers=[by_name["slow"]], pure=False)
                for _ in range(2)
            ]
            dying = client.submit(job["die"], *inputs, workers=[by_name["doomed"]])
            with pytest.raises(KilledWorker):
                dying.result(timeout=120)
            # ``slow`` wrote the file and now hangs in its upload: it dies there.
            [first] = _wait_for(
                "slow's snapshot", lambda: list(directory.glob("*" + snapshot.SNAPSHOT_SUFFIX))
            )
            time.sleep(0.5)
            assert procs["slow"].poll() is None, "slow should still be uploading"
            if slow_writer == "killed":
                os.killpg(procs["slow"].pid, signal.SIGKILL)
            event = _wait_for(
                "the snapshot event",
                lambda: [e for _, e in client.get_events("snapshot") if e.get("key") == dying.key],
            )
            time.sleep(1)  # any second write would land meanwhile
            events = [e for _, e in client.get_events("snapshot") if e.get("key") == dying.key]
    finally:
        for proc in reversed(procs.values()):
            stop(proc)
        for log in logs.values():
            log.close()

    # One snapshot of the death: the one ``slow`` wrote, announced by ``writer``.
    assert list(directory.glob("*" + snapshot.SNAPSHOT_SUFFIX)) == [first]
    assert events == event and len(events) == 1, events
    [announced] = events
    assert announced["path"] == str(first) and announced["worker"] == by_name["writer"]
    assert announced["url"] is None and announced["complete"] is True
    manifest = snapshot.read_manifest(first)
    # Without a nanny nobody saw the exit code: the cause stays unknown.
    assert announced["death"]["cause"] == manifest["death"]["cause"] == "unknown"
    assert announced["attempt"] == manifest["task"]["attempt"] == 1
    assert manifest["task"]["key"] == dying.key
    assert manifest["origin"]["written_by"]["worker_name"] == "slow"
    assert len(manifest["inputs"]) == 2 and manifest["death"]["lost_inputs"] == []
    log = (tmp_path / "scheduler.log").read_text(errors="replace")
    failures = re.findall(
        r"dask-replay: (\S+) could not write the death snapshot of task '[^']+': (.*)", log
    )
    assert [w for w, _ in failures] == [by_name["slow"]], log
    if slow_writer == "hanging":
        assert failures[0][1] == "no answer within 6 s (3 x snapshot.capture-timeout)", log
    # The one ``slow`` wrote is whole: it replays to the same exit.
    assert snapshot.open_snapshot(first).inputs() and not list(directory.glob(".*.partial"))
