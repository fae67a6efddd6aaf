"""The memory bound, end to end: a 300 MiB ``bytes`` input under
``dask worker --nanny --memory-limit 1.25GiB`` fails with the user's own error,
with no worker restart, and the snapshot replays.

Before the bound, capturing that input pushed the worker past the nanny's
terminate threshold (95%) three times: three restarts, 14 s instead of 0.7 s,
and with fewer ``allowed-failures`` a ``KilledWorker`` instead of the error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client
from subprocess_cluster import free_port, stop

import snapshot

HERE = Path(__file__).resolve().parent
NOTE = re.compile(r"dask-replay: snapshot written to [^:\s]+:(?P<path>\S+)")
SIZE = 300 * 2**20


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("hook-memory")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(tmp / "snapshots")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = {name: open(tmp / f"{name}.log", "wb") for name in ("scheduler", "worker")}
    procs = []
    common: dict[str, Any] = {
        "env": env,
        "cwd": tmp,  # not the checkout: the installed packages are what a user runs
        "stderr": subprocess.STDOUT,
        "start_new_session": True,
    }
    try:
        procs.append(
            subprocess.Popen(
                [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                stdout=logs["scheduler"],
                **common,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    *dask,
                    "worker",
                    address,
                    *("--nanny", "--memory-limit", "1.25GiB", "--nthreads", "1"),
                    *("--preload", "cluster_hook", "--no-dashboard", "--host", "127.0.0.1"),
                    *("--local-directory", str(tmp / "worker-space")),
                ],
                stdout=logs["worker"],
                **common,
            )
        )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            from hook_memory_funcs import fails_on, make_bytes

            pids = client.run(os.getpid)
            payload = client.submit(make_bytes, SIZE, key="payload")
            try:
                client.submit(fails_on, payload, key="fails-on-payload").result(timeout=240)
                error: BaseException | None = None
            except Exception as exc:
                error = exc
            result = {
                "error": error,
                "pids_before": pids,
                "pids_after": client.run(os.getpid),
                "restarts": client.get_events("worker-restart-memory"),
            }
    finally:
        for proc in reversed(procs):
            stop(proc)
        for f in logs.values():
            f.close()
    result["worker_log"] = (tmp / "worker.log").read_text(errors="replace")
    result["env"] = env
    yield result


def test_the_user_sees_their_own_error_and_the_worker_is_not_restarted(
    run: dict[str, Any],
) -> None:
    error = run["error"]
    assert type(error) is ValueError and error.args == (f"bad payload of {SIZE} bytes",)
    assert run["pids_after"] == run["pids_before"]
    assert not run["restarts"]
    assert "Restarting" not in run["worker_log"]


def test_the_snapshot_replays(run: dict[str, Any]) -> None:
    notes = "\n".join(getattr(run["error"], "__notes__", []))
    (path,) = NOTE.findall(notes)
    manifest = snapshot.read_manifest(path)
    assert manifest["capture"]["complete"], manifest["capture"]
    code = (
        "import sys, snapshot\n"
        "func, args, kwargs = snapshot.open_snapshot(sys.argv[1]).call()\n"
        "try:\n    func(*args, **kwargs)\nexcept ValueError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, path],
        env=run["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == f"bad payload of {SIZE} bytes"
