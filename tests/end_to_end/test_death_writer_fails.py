"""A death snapshot whose first chosen writers fail is written by the next worker.

Real ``dask scheduler`` (``allowed-failures`` 0: the dying task is not retried)
and four ``dask worker --nanny --preload cluster_hook`` processes, each named.
Two of them see a disk of their own over the shared ``snapshot.directory``
(``unshare -m`` and a tmpfs mount, as tests/end_to_end/test_capture_remote_worker.py
hides a worker's disk): ``readonly``'s is mounted read-only, ``full``'s is a
64 KiB tmpfs.  The inputs of the task that kills ``doomed`` (``os._exit(1)``)
are placed (``workers=``; the case is about placement: the scheduler chooses
the writer holding the most surviving inputs) so that the scheduler tries
``readonly`` first (two inputs), ``full`` next (one), then ``writer`` (none).
The first two fail for real (read-only file system; no space left on device),
the scheduler's log names each and why, and ``writer`` writes the snapshot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, KilledWorker
from subprocess_cluster import free_port, stop, wait_for_workers

import snapshot

JOB = """\
import os


def make(n):
    return os.urandom(n)


def die(*values):
    os._exit(1)
"""
MiB = 2**20


def _job() -> dict[str, Any]:
    """The functions as a client's ``__main__`` defines them: they travel by value."""
    job: dict[str, Any] = {"__name__": "client_script_death_writer"}
    exec(compile(JOB, "/client/home/death_writer.py", "exec"), job)
    return job


def test_the_next_worker_writes_the_death_and_the_log_says_why_the_first_failed(
    tmp_path: Path,
) -> None:
    assert shutil.which("unshare"), "util-linux's unshare is needed to give a worker its own disk"
    directory = tmp_path / "snapshots"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(directory)
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"
    env["DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING"] = "False"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    common: dict[str, Any] = {"env": env, "stderr": subprocess.STDOUT, "start_new_session": True}
    names = ("scheduler", "doomed", "readonly", "full", "writer")
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in names}
    mounts = {
        "readonly": f"mount -t tmpfs -o ro dask-replay-test {directory}",
        "full": f"mount -t tmpfs -o size=64k dask-replay-test {directory}",
    }
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs["scheduler"],
            **common,
        )
    ]
    job = _job()
    try:
        for name in names[1:]:
            worker = [
                *dask,
                "worker",
                address,
                "--name",
                name,
                "--nanny",
                "--preload",
                "cluster_hook",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--local-directory",
                str(tmp_path / "space"),
            ]
            if name in mounts:
                shell = f"{mounts[name]} && exec {' '.join(worker)}"
                worker = ["unshare", "--mount", "--propagation", "private", "sh", "-c", shell]
            procs.append(subprocess.Popen(worker, stdout=logs[name], **common))
        wait_for_workers(address, 4, env)
        with Client(address, timeout=60) as client:
            by_name = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
            first, second, third = (
                client.submit(job["make"], MiB, workers=[by_name[name]], pure=False)
                for name in ("readonly", "readonly", "full")
            )
            dying = client.submit(job["die"], first, second, third, workers=[by_name["doomed"]])
            with pytest.raises(KilledWorker):
                dying.result(timeout=120)
            event = _wait_for_event(client, dying.key)
            on_full = client.run(os.listdir, str(directory), workers=[by_name["full"]])
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in logs.values():
            log.close()

    # Written by the third worker asked, into the directory the test can see.
    assert event["worker"] == by_name["writer"], event
    [written] = list(directory.glob("*" + snapshot.SNAPSHOT_SUFFIX))
    manifest = snapshot.read_manifest(written)
    assert manifest["task"]["key"] == dying.key
    assert manifest["origin"]["worker_name"] == "doomed"
    assert manifest["origin"]["written_by"]["worker_name"] == "writer"
    assert manifest["death"]["cause"] == "exit" and manifest["death"]["lost_inputs"] == []
    assert len(manifest["inputs"]) == 3
    # The scheduler's log says, in order, who could not write it and why.
    log = (tmp_path / "scheduler.log").read_text(errors="replace")
    failures = re.findall(
        r"dask-replay: (\S+) could not write the death snapshot of task '([^']+)': (.*)", log
    )
    assert [(w, k) for w, k, _ in failures] == [
        (by_name["readonly"], dying.key),
        (by_name["full"], dying.key),
    ], log
    assert failures[0][2] == (
        f"SnapshotWriteError('{directory}: cannot write a death snapshot there: "
        "Read-only file system; check snapshot.directory on this worker')"
    )
    assert failures[1][2].startswith(f"SnapshotWriteError('{directory}/")
    assert "writing the snapshot failed: No space left on device" in failures[1][2]
    # The full disk keeps nothing half-written.
    assert not [
        n for n in on_full[by_name["full"]] if n.endswith((".partial", snapshot.SNAPSHOT_SUFFIX))
    ]


def _wait_for_event(client: Client, key: str) -> dict[str, Any]:
    """The ``snapshot`` event of ``key``'s death snapshot (bounded wait)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        events = [e for _, e in client.get_events("snapshot") if e.get("key") == key]
        if events:
            return events[0]
        time.sleep(0.2)
    raise AssertionError(f"no snapshot event for {key!r}: {client.get_events('snapshot')}")
