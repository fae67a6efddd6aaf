"""An error storm across 16 hosts writes ``max-per-fingerprint`` snapshots in all, not per host.

`dask scheduler --preload cluster_hook` and 16 `dask worker --preload
cluster_hook --nthreads 1` processes, each with a snapshot directory of its
own (``DASK_SNAPSHOT__DIRECTORY``), as 16 hosts with local disks would have.
One bug hits every partition of a 2,000-task map: the cluster writes exactly
3 snapshots, every failure is counted by the scheduler, and every client
exception carries a note (written, or counted with where the written ones are).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from subprocess_cluster import free_port, stop, wait_for_workers

import snapshot

ROOT = Path(__file__).resolve().parents[2]
USERFUNCS = ROOT / "tests" / "cluster_hook"
WORKERS = 16
TASKS = 2000
LIMIT = 3
SCHEDULER_ARGS = ("--host", "127.0.0.1", "--no-dashboard", "--preload", "cluster_hook")
WORKER_ARGS = (
    *("--preload", "cluster_hook", "--nthreads", "1", "--no-nanny", "--no-dashboard"),
    *("--host", "127.0.0.1", "--local-directory"),
)

CLIENT = """
import json, sys, time
from distributed import Client, wait
import cluster_hook
from hook_userfuncs import recip

with Client(sys.argv[1], timeout=60) as c:
    tasks = int(sys.argv[3])
    futures = c.map(recip, [0] * tasks, pure=False)
    wait(futures)
    notes = [getattr(f.exception(), "__notes__", []) for f in futures]
    # The last counts travel on the workers' batched streams: wait for them.
    deadline = time.monotonic() + 60
    counts = cluster_hook.storm_counts(c)
    while sum(v["failures"] for v in counts.values()) < tasks and time.monotonic() < deadline:
        time.sleep(0.1)
        counts = cluster_hook.storm_counts(c)
    report = {
        "types": sorted({type(f.exception()).__name__ for f in futures}),
        "notes": notes,
        "counts": counts,
        "events": [e for _, e in c.get_events("snapshot")],
        "fetched": [str(p) for p in cluster_hook.fetch_snapshots(c, sys.argv[4])],
    }
with open(sys.argv[2], "w") as f:
    json.dump(report, f)
"""


@pytest.fixture(scope="module")
def storm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("storm-e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(USERFUNCS), str(ROOT), env.get("PYTHONPATH", "")])
    env["DASK_SNAPSHOT__MAX_PER_FINGERPRINT"] = str(LIMIT)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    log = open(tmp / "cluster.log", "wb")
    procs = []
    directories = [tmp / f"host-{i:02d}" for i in range(WORKERS)]
    try:
        procs.append(
            subprocess.Popen(
                [*dask, "scheduler", *SCHEDULER_ARGS, "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        for directory in directories:
            procs.append(
                subprocess.Popen(
                    [*dask, "worker", address, *WORKER_ARGS, str(tmp / "worker-space")],
                    env={**env, "DASK_SNAPSHOT__DIRECTORY": str(directory)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        wait_for_workers(address, WORKERS, env)
        out = tmp / "report.json"
        subprocess.run(
            [sys.executable, "-c", CLIENT, address, str(out), str(TASKS), str(tmp / "fetched")],
            env=env,
            check=True,
            timeout=240,
            cwd=tmp,
        )
    finally:
        for proc in reversed(procs):
            stop(proc)
        log.close()
    yield {
        "report": json.loads(out.read_text()),
        "directories": directories,
        "fetched": tmp / "fetched",
        "log": (tmp / "cluster.log").read_text(errors="replace"),
    }


def test_the_cluster_writes_the_budget_once_not_per_host(storm: dict[str, Any]) -> None:
    files = [p for d in storm["directories"] for p in d.glob("*.tar.zst")]
    assert len(files) == LIMIT
    tasks = [snapshot.read_model(p).task for p in files]
    assert all(t is not None and t.storm_scope == "cluster" for t in tasks)
    assert sorted(t.occurrence for t in tasks if t is not None) == list(range(1, LIMIT + 1))
    assert len(storm["report"]["events"]) == LIMIT


def test_every_failure_is_counted_and_noted(storm: dict[str, Any]) -> None:
    report = storm["report"]
    assert report["types"] == ["ZeroDivisionError"]
    (counts,) = report["counts"].values()
    assert counts["failures"] == TASKS
    assert counts["written"] == LIMIT
    assert counts["workers"] == WORKERS
    notes = report["notes"]
    assert all(len(n) == 1 for n in notes), [n for n in notes if len(n) != 1][:3]
    written = [n[0] for n in notes if n[0].startswith("dask-replay: snapshot written to")]
    counted = [n[0] for n in notes if "already written in the cluster" in n[0]]
    assert len(written) == LIMIT
    assert len(counted) == TASKS - LIMIT
    # Once the written ones are known to the scheduler, the notes say where they are.
    assert any("; written: " in n for n in counted)


def test_no_worker_warned_or_failed_to_ask(storm: dict[str, Any]) -> None:
    log = storm["log"]
    assert log.count("dask-replay: failing tasks are captured to") == WORKERS
    assert "cluster_hook - ERROR" not in log


def test_list_of_the_fetched_copies_tells_how_often_it_happened(storm: dict[str, Any]) -> None:
    assert len(storm["report"]["fetched"]) == LIMIT
    listed = subprocess.run(
        [sys.executable, "-m", "replay", "list", str(storm["fetched"])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == LIMIT
    told = f"({LIMIT} written, {TASKS:,} failures on {WORKERS} workers)"
    assert all(told in line for line in lines), lines
