"""``python -m replay check`` on real worker deaths (``dask worker --nanny --memory-limit
300MB``; the cluster of ``test_worker_deaths``): a death that happens again under the
recorded memory limit (or a lower ``--memory-limit``), or calls ``os._exit`` again, fails;
a death whose input died with the worker cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_worker_deaths import _death_snapshots, _run_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run_cluster(tmp_path_factory.mktemp("check-deaths"))


def _check(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASK_", "PYTHONBREAKPOINT"))}
    return subprocess.run(
        [sys.executable, "-m", "replay", "check", "--json", "--timeout", "120", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_deaths_are_checked_under_their_recorded_conditions(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    paths = {
        key: str(_death_snapshots(cluster, f"{key}-task")[0]["path"])
        for key in ("memory", "exit", "segv")
    }
    result = _check(list(paths.values()), tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {r["task"]: r for r in json.loads(result.stdout)["results"]}
    assert rows["memory-task"]["verdict"] == "fails"
    assert rows["memory-task"]["captured"] == "worker died: out of memory"
    assert rows["memory-task"]["reason"].startswith("dies again: MemoryError")
    assert rows["exit-task"]["verdict"] == "fails"
    assert "os._exit(1)" in rows["exit-task"]["reason"]
    assert rows["segv-task"]["verdict"] == "cannot run"
    assert "'segv-input' were held only by the worker that died" in rows["segv-task"]["reason"]


def test_memory_limit_replaces_the_recorded_one(cluster: dict[str, Any], tmp_path: Path) -> None:
    path = str(_death_snapshots(cluster, "memory-task")[0]["path"])
    lowered = _check([path, "--memory-limit", "100MB"], tmp_path)
    (row,) = json.loads(lowered.stdout)["results"]
    assert row["verdict"] == "fails", row
    assert row["reason"].startswith("dies again: MemoryError")
