"""The hook as documented: ``dask scheduler`` + ``dask worker --preload cluster_hook``.

Real subprocesses on random free ports, ``DASK_SNAPSHOT__DIRECTORY`` set; the
seed write-up's delayed, futures and bag failures plus a dataframe and an
array failure run from a ``__main__`` script.  After the cluster is stopped,
each snapshot names ZeroDivisionError and its frames hold ``x == 0``.  The
workers sign with a key given as ``DASK_SNAPSHOT__KEY``: no snapshot
holds it, in any form.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard
from subprocess_cluster import free_port, stop, wait_for_workers

import snapshot

HERE = Path(__file__).resolve().parent
SCENARIOS = ["delayed", "futures", "bag", "dataframe", "array"]
NOTE = re.compile(r"dask-replay: snapshot written to (?P<host>[^:\s]+):(?P<path>\S+)")
# Joined at run time: this file's source must not spell it either.
KEY = "-".join(("CANARY", "signing-key", "e2e", "5d0c"))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("hook-e2e")
    directory = tmp / "snapshots"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(directory)
    env["DASK_SNAPSHOT__KEY"] = KEY
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = {name: open(tmp / f"{name}.log", "wb") for name in ("scheduler", "worker")}
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                env=env,
                stdout=logs["scheduler"],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    *dask,
                    "worker",
                    address,
                    "--preload",
                    "cluster_hook",
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--local-directory",
                    str(tmp / "worker-space"),
                ],
                env=env,
                stdout=logs["worker"],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        wait_for_workers(address, 2, env)
        out = tmp / "report.json"
        started = time.monotonic()
        subprocess.run(
            [sys.executable, str(HERE / "hook_client_script.py"), address, str(out)],
            env=env,
            check=True,
            timeout=180,
            cwd=tmp,
        )
        elapsed = time.monotonic() - started
    finally:
        for proc in reversed(procs):
            stop(proc)
        for f in logs.values():
            f.close()
    # The cluster is gone from here on.
    yield {
        "report": json.loads(out.read_text()),
        "directory": directory,
        "elapsed": elapsed,
        "worker_log": (tmp / "worker.log").read_text(errors="replace"),
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_failure_leaves_a_snapshot_named_in_the_client_exception(
    session: dict[str, Any], scenario: str
) -> None:
    result = session["report"][scenario]
    assert result["type"] == "ZeroDivisionError", result
    found = NOTE.findall(result["text"])
    assert len(found) == 1, result["text"]
    host, path = found[0]
    assert host == socket.gethostname()
    assert Path(path).parent == session["directory"]
    assert Path(path).is_file()

    manifest = snapshot.read_manifest(path)
    assert manifest["error"]["type"] == "ZeroDivisionError"
    assert manifest["origin"]["worker"].startswith("tcp://127.0.0.1:")

    opened = snapshot.open_snapshot(path, key=KEY.encode())
    frames = [opened.frame_locals(i) for i in range(len(manifest["frames"]))]
    assert any(type(f.get("x")) is int and f["x"] == 0 for f in frames), frames
    func, args, kwargs = opened.call()
    with pytest.raises(ZeroDivisionError):
        func(*args, **kwargs)


def test_no_snapshot_holds_the_signing_key(session: dict[str, Any]) -> None:
    paths = sorted(session["directory"].glob("*.tar.zst"))
    assert len(paths) == len(SCENARIOS)
    for path in paths:
        assert snapshot.read_manifest(path)["signed"] is True
        with open(path, "rb") as f:
            raw = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()
        for form in (KEY.encode(), KEY.encode().hex().encode()):
            assert form not in raw, path
        assert b"DASK_SNAPSHOT__KEY" in raw  # the variable is listed, its value is not


def test_every_snapshot_is_listed_by_get_events(session: dict[str, Any]) -> None:
    on_disk = sorted(str(p) for p in session["directory"].glob("*.tar.zst"))
    published = sorted(e["path"] for e in session["report"]["events"])
    assert published == on_disk
    assert len(on_disk) == len(SCENARIOS)


def test_each_worker_process_loaded_the_hook_and_logged_no_warning(
    session: dict[str, Any],
) -> None:
    log = session["worker_log"]
    started = f"dask-replay: failing tasks are captured to {session['directory']}"
    assert log.count(started) == 2  # --nworkers 2: one per worker process
    assert "cluster_hook - WARNING" not in log and "cluster_hook - ERROR" not in log
