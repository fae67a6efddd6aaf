"""Worker deaths, end to end: a task that kills its worker leaves a death snapshot, and it replays.

Real ``dask scheduler`` + ``dask worker --nanny --memory-limit 300MB --preload
cluster_hook`` subprocesses (five worker processes of one thread; the hook is
preloaded on the workers only, which register its scheduler part).  One
cluster, shared by every test: with ``allowed-failures`` 0, a task that calls
``os._exit(1)`` (its input held by another worker), one that segfaults and
one that allocates until the nanny kills it run at once; then, with the
scheduler's default ``allowed-failures`` (3), a task that kills every worker
that tries it.  The snapshots are read and replayed after the cluster is
gone, from another directory.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from subprocess_cluster import free_port, stop

import snapshot

HERE = Path(__file__).resolve().parent


def _run_cluster(tmp: Path) -> dict[str, Any]:
    directory = tmp / "snapshots"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(directory)
    env["DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING"] = "False"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    preload = ["--preload", "cluster_hook"]
    logs = {name: open(tmp / f"{name}.log", "wb") for name in ("scheduler", "worker")}
    procs = []
    out = tmp / "report.json"
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
                    *preload,
                    "--nanny",
                    "--memory-limit",
                    "300MB",
                    "--nworkers",
                    "5",
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
        subprocess.run(
            [sys.executable, str(HERE / "death_client_script.py"), address, str(out)],
            env=env,
            check=True,
            timeout=240,
            cwd=tmp,
        )
    finally:
        for proc in reversed(procs):
            stop(proc)
        for f in logs.values():
            f.close()
    report = json.loads(out.read_text())
    report["directory"] = directory
    report["worker_log"] = (tmp / "worker.log").read_text(errors="replace")
    return report


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield _run_cluster(tmp_path_factory.mktemp("deaths"))


def _death_snapshots(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted(Path(report["directory"]).glob("*.tar.zst")):
        manifest = snapshot.read_manifest(path)
        if manifest["task"]["key"] == key:
            found.append({"path": path, "manifest": manifest})
    return found


def replay(args: list[str], cwd: Path, stdin: str = "q\n") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASK_", "PYTHONBREAKPOINT"))}
    return subprocess.run(
        [sys.executable, "-m", "replay", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


KILLED_ONCE = "Attempted to run task {key!r} on 1 different workers, but all those workers died"


@pytest.mark.parametrize(
    ("scenario", "cause", "signal_name", "function"),
    [
        ("exit", "exit", None, "exit_now"),
        ("segv", "signal", "SIGSEGV", "segv"),
        ("memory", "memory", None, "hog"),
    ],
)
def test_each_death_leaves_one_snapshot_naming_task_and_cause(
    cluster: dict[str, Any], scenario: str, cause: str, signal_name: str | None, function: str
) -> None:
    key = f"{scenario}-task"
    seen = cluster[scenario]
    # The client's error is distributed's own KilledWorker, untouched by the hook.
    assert seen["type"] == "KilledWorker", seen
    assert KILLED_ONCE.format(key=key) in seen["text"]
    assert "dask-replay" not in seen["text"]

    written = _death_snapshots(cluster, key)
    assert len(written) == 1, written
    path, manifest = written[0]["path"], written[0]["manifest"]
    [event] = seen["events"]
    assert event["path"] == str(path)
    assert event["death"]["cause"] == cause
    assert str(path).replace(str(cluster["directory"]), "") in "".join(cluster["fetched"])

    death = manifest["death"]
    assert death["cause"] == cause
    if cause != "memory":
        assert death["signal_name"] == signal_name
    assert death["suspicious"] == 1 and death["allowed_failures"] == 0
    assert death["killed_worker"] is True
    assert death["memory_limit"] == 300_000_000
    assert death["worker"].startswith("tcp://127.0.0.1:")
    assert death["host"] == socket.gethostname()
    assert manifest["error"]["type"] == "KilledWorker"
    if cause == "exit":
        assert death["exit_code"] == 1
        assert death["stacks"].startswith("os._exit(1) was called")
    # faulthandler's stacks show the user's function at its death.
    assert death["stacks_reason"] is None
    assert f" in {function}" in death["stacks"]
    if cause == "memory":
        assert death["rss_at_kill"] > 0.95 * 286 * 2**20
        # The nanny's SIGTERM, or SIGKILL if the worker outlived it.
        assert death["signal_name"] in ("SIGTERM", "SIGKILL")


def test_success_writes_nothing(cluster: dict[str, Any]) -> None:
    assert cluster["ok"] == {"type": None, "result": "2"}
    keys = {
        snapshot.read_manifest(p)["task"]["key"] for p in cluster["directory"].glob("*.tar.zst")
    }
    assert keys == {"exit-task", "segv-task", "memory-task", "retried-task"}, keys


def test_surviving_input_is_stored_and_the_call_replays(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    [written] = _death_snapshots(cluster, "exit-task")
    manifest = written["manifest"]
    assert manifest["death"]["lost_inputs"] == []
    opened = snapshot.open_snapshot(written["path"])
    assert list(opened.inputs()) == ["exit-input"]
    assert int(opened.inputs()["exit-input"].sum()) == sum(range(1000))
    result = replay([str(written["path"]), "--no-debug"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "exited with status 1" in result.stdout
    assert "Reproduced: the call called os._exit(1), as on the worker." in result.stdout


def test_input_held_only_by_the_dead_worker_is_named_as_lost(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    [written] = _death_snapshots(cluster, "segv-task")
    [lost] = written["manifest"]["death"]["lost_inputs"]
    assert lost["key"] == "segv-input" and "held only by the dead worker" in lost["reason"]
    result = replay([str(written["path"]), "--no-debug"], tmp_path)
    assert result.returncode == 4, result.stderr
    assert (
        "input(s) 'segv-input' were held only by the worker that died and could not be recomputed"
        in result.stderr
    )
    assert "Python stacks at the worker's death (faulthandler):" in result.stdout


def test_info_and_list_say_how_the_worker_died(cluster: dict[str, Any], tmp_path: Path) -> None:
    [written] = _death_snapshots(cluster, "segv-task")
    result = replay(["info", str(written["path"])], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "The worker died running this task:" in result.stdout
    assert "killed by signal 11 (SIGSEGV)" in result.stdout
    assert " in segv" in result.stdout
    listing = replay(["list", str(cluster["directory"])], tmp_path)
    assert "KilledWorker (out of memory)" in listing.stdout
    assert "KilledWorker (SIGSEGV)" in listing.stdout
    assert "KilledWorker (exit status 1)" in listing.stdout


def test_out_of_memory_replays_into_memory_error_at_the_allocating_line(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    [written] = _death_snapshots(cluster, "memory-task")
    result = replay([str(written["path"])], tmp_path, stdin="p size > 0\np type(chunks)\nq\n")
    assert result.returncode == 1, result.stderr
    assert "Re-running under the worker's memory limit: 286.1 MiB" in result.stdout
    assert "MemoryError" in result.stderr
    assert "Reproduced: the call ran out of memory under the worker's limit" in result.stdout
    assert "(Pdb) True" in result.stdout  # p size > 0, in hog's frame
    assert "<class 'list'>" in result.stdout
    lifted = replay([str(written["path"]), "--no-debug", "--memory-limit", "100MB"], tmp_path)
    assert "100.0 MB" not in lifted.stdout and "95.4 MiB" in lifted.stdout


def test_default_allowed_failures_retries_then_killed_worker(cluster: dict[str, Any]) -> None:
    assert cluster["default_allowed_failures"] == 3
    seen = cluster["retried"]
    assert seen["type"] == "KilledWorker", seen
    assert "on 4 different workers" in seen["text"]
    written = _death_snapshots(cluster, "retried-task")
    # Four deaths of one kind: snapshot.max-per-fingerprint (3) are written,
    # and the one that raised KilledWorker, always.
    assert len(written) == 4, [w["path"] for w in written]
    written.sort(key=lambda w: w["manifest"]["death"]["suspicious"])
    assert [w["manifest"]["death"]["suspicious"] for w in written] == [1, 2, 3, 4]
    assert all(w["manifest"]["death"]["allowed_failures"] == 3 for w in written)
    killed = [w["manifest"]["death"]["killed_worker"] for w in written]
    assert killed == [False, False, False, True]
    # The workers alone registered the scheduler's part (no scheduler preload).
    assert all(w["manifest"]["death"]["exit_code"] == 1 for w in written)
