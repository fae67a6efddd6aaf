"""Worker deaths with Dask's own placement: lost inputs recomputed, every cause named.

One real cluster, shared by every test: ``dask scheduler --preload
cluster_hook`` and ``dask worker --nanny --nworkers 2 --memory-limit 400MB
--preload cluster_hook``, with no task pinned to a worker
(``lineage_client_script.py``).  The snapshots are read and replayed after
the cluster is gone, from another directory.
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
from subprocess_cluster import free_port, stop

import snapshot

HERE = Path(__file__).resolve().parent


def _run_cluster(tmp: Path) -> dict[str, Any]:
    directory = tmp / "snapshots"
    directory.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(directory)
    # Four deaths of one kind per task: write them all (the default keeps 3).
    env["DASK_SNAPSHOT__MAX_PER_FINGERPRINT"] = "8"
    env["DASK_SNAPSHOT__CLIENT_DIRECTORY"] = str(tmp / "client-copies")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    preload = ["--preload", "cluster_hook"]
    logs = {name: open(tmp / f"{name}.log", "wb") for name in ("scheduler", "worker")}
    out = tmp / "report.json"
    procs = []
    common = {"env": env, "stderr": subprocess.STDOUT, "start_new_session": True}
    try:
        scheduler = [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)]
        procs.append(
            subprocess.Popen(
                [*scheduler, "--no-dashboard", *preload], stdout=logs["scheduler"], **common
            )
        )
        worker = [*dask, "worker", address, *preload, "--nanny", "--memory-limit", "400MB"]
        procs.append(
            subprocess.Popen(
                [
                    *worker,
                    *("--nworkers", "2", "--nthreads", "1", "--no-dashboard"),
                    *("--host", "127.0.0.1", "--local-directory", str(tmp / "worker-space")),
                ],
                stdout=logs["worker"],
                **common,
            )
        )
        subprocess.run(
            [
                sys.executable,
                str(HERE / "lineage_client_script.py"),
                address,
                str(out),
                *[str(directory)],
            ],
            env=env,
            check=True,
            timeout=420,
            cwd=tmp,
        )
    finally:
        for proc in reversed(procs):
            stop(proc)
        for f in logs.values():
            f.close()
    report = json.loads(out.read_text())
    report["directory"] = directory
    return report


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield _run_cluster(tmp_path_factory.mktemp("lineage"))


def _written(report: dict[str, Any], key: str) -> list[snapshot.Snapshot]:
    found = []
    for path in sorted(Path(report["directory"]).glob("*.tar.zst")):
        if snapshot.read_manifest(path)["task"]["key"] == key:
            found.append(snapshot.open_snapshot(path))
    return sorted(found, key=lambda s: s.model.death.suspicious if s.model.death else 0)


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


def _recomputed(opened: snapshot.Snapshot, key: str) -> snapshot.Input:
    [entry] = [e for e in opened.model.inputs if e.key == key]
    assert entry.recomputed is not None, entry
    return entry


def test_a_cluster_where_nothing_dies_writes_nothing(cluster: dict[str, Any]) -> None:
    assert cluster["ok"] == {"type": None, "result": "2"}
    # Only the workers' faulthandler files, which a death would fill: no snapshot.
    assert cluster["written_before_deaths"] == [".faulthandler"]


@pytest.mark.parametrize("key", ["grow-1", "grow-3"])
def test_out_of_memory_snapshots_hold_the_recomputed_input(
    cluster: dict[str, Any], key: str
) -> None:
    written = _written(cluster, key)
    expected = 1 if key == "grow-1" else 4
    assert len(written) == expected, [w.path for w in written]
    upstream = key.replace("grow", "upstream")
    for opened in written:
        death = opened.model.death
        assert death is not None and death.cause == "memory", death
        assert death.lost_inputs == (), death.lost_inputs
        assert opened.inputs()[upstream] == 7
        # Lost with this death and recomputed, or recomputed after an earlier one.
        [entry] = opened.model.inputs
        assert entry.recomputed is not None, opened.path
        assert entry.recomputed.function == "upstream" and entry.recomputed.sources == ()


def test_the_recomputed_input_replays_into_memory_error_in_grow(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    [opened] = _written(cluster, "grow-1")
    path = str(opened.path)
    result = replay([path, "--no-debug"], tmp_path)
    assert "MemoryError" in result.stderr, result.stderr[-2000:]
    assert ", in grow\n" in result.stderr  # the allocating line, in grow's frame
    assert "Reproduced: the call ran out of memory" in result.stdout
    assert "input 'upstream-1' recomputed from its task upstream()" in result.stdout
    debugged = replay([path], tmp_path, stdin="p n_mb\nq\n")
    assert "(Pdb) 2000" in debugged.stdout, debugged.stdout[-2000:]
    lifted = replay([path, "--no-debug", "--memory-limit", "4GB"], tmp_path)
    assert "Not reproduced: the call returned 2007" in lifted.stdout, lifted.stdout[-2000:]
    info = replay(["info", path], tmp_path)
    assert "input 'upstream-1' recomputed from its task upstream()" in info.stdout


def test_a_chain_of_two_lost_inputs_is_recomputed(cluster: dict[str, Any]) -> None:
    assert cluster["chain"]["type"] == "KilledWorker"
    [opened] = _written(cluster, "chain-leave")
    entry = _recomputed(opened, "chain-b")
    assert entry.recomputed.function == "double"
    assert entry.recomputed.sources == ("chain-a",)
    assert entry.recomputed.tasks == 2
    assert opened.inputs()["chain-b"] == 6


def test_an_impure_input_is_recomputed_and_flagged(cluster: dict[str, Any]) -> None:
    [opened] = _written(cluster, "noise-leave")
    [entry] = opened.model.inputs
    assert entry.recomputed is not None and entry.recomputed.function == "noise"
    assert "impure" in (entry.recomputed.note or "")
    # Another draw of random.random(): not the value the task got.
    assert opened.inputs()[entry.key] != cluster["noise_value"]


def test_an_input_over_the_bounds_is_named_missing(cluster: dict[str, Any]) -> None:
    assert cluster["big"]["type"] == "KilledWorker"
    [opened] = _written(cluster, "big-leave")
    death = opened.model.death
    assert death is not None
    [lost] = death.lost_inputs
    assert lost.key == "big-1"
    assert "its last known size, 150 MiB, is over 25% of a worker's memory limit" in (
        lost.reason or ""
    )
    assert opened.model.inputs == ()


def test_every_death_of_a_four_death_run_names_its_cause(cluster: dict[str, Any]) -> None:
    four = cluster["four"]
    assert four["type"] == "KilledWorker" and "on 4 different workers" in four["text"]
    written = _written(cluster, "four-leave")
    assert [w.model.death.suspicious for w in written] == [1, 2, 3, 4]
    for opened in written:
        death = opened.model.death
        assert (death.cause, death.exit_code) == ("exit", 1), death.summary
        assert death.stacks and " in leave" in death.stacks
    assert [w.model.death.killed_worker for w in written] == [False, False, False, True]


def test_killed_worker_leads_to_its_snapshot_in_one_step(cluster: dict[str, Any]) -> None:
    written = _written(cluster, "four-leave")
    last = written[-1]
    four = cluster["four"]
    # replay.load(exc) and replay.load(future), while the cluster was up: the
    # snapshot of the death that raised KilledWorker (or the client part's copy of it).
    for loaded in (four["loaded_exc"], four["loaded_future"]):
        assert Path(loaded).name == Path(last.path).name
    # replay.debug(future) re-runs that death's call: os._exit again, as on the worker.
    assert four["debugged"]["verdict"] == "REPRODUCED", four["debugged"]
    assert "Reproduced: the call called os._exit(1)" in four["debugged"]["said"]


def test_with_the_client_part_and_after_the_client_closed(
    cluster: dict[str, Any],
) -> None:
    closed = cluster["closed"]
    assert closed["type"] == "KilledWorker"
    [written] = _written(cluster, "closed-leave")
    assert closed["while_up"] == str(written.path)
    assert closed["debugged"]["verdict"] == "REPRODUCED", closed["debugged"]
    # The client closed, its future was cancelled: the client part's copy.
    copy = Path(closed["after_close"])
    assert copy.name == Path(written.path).name
    assert copy.parent == Path(cluster["directory"]).parent / "client-copies"
