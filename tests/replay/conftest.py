"""Snapshots made in-process with ``snapshot.SnapshotBuilder``, as a worker would make them.

The failing functions are compiled from source under a filename that does not
exist on this machine (``/worker/home/job.py``) and a module name that is not
importable, so cloudpickle pickles them by value, as it does for functions
defined in a client's ``__main__``: a replay in another process, from another
directory, needs nothing but the snapshot.
"""

from __future__ import annotations

import linecache
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import hypothesis
import pytest

import snapshot

WORKER_FILE = "/worker/home/job.py"

JOB_SOURCE = """\
import os


def dec(x):
    return x - 1


def recip(x):
    scale = 1
    return scale / x


def call_service(x):
    if os.environ.get("REPLAY_TEST_SERVICE_DOWN"):
        raise ConnectionError("service unavailable")
    return x


def outer(values):
    total = sum(values)
    return inner(total, len(values))


def inner(total, count):
    mean = total / count
    return mean / (total - total)
"""


def compile_job(source: str = JOB_SOURCE, filename: str = WORKER_FILE) -> dict[str, Any]:
    """Define the job's functions as a worker would hold them, source in linecache."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "worker_job"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def write_snapshot(
    path: Path,
    func: Callable[..., Any],
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    *,
    inputs: Mapping[object, object] | None = None,
    task_key: str = "recip-123",
    key: bytes | None = None,
    edit: Callable[[snapshot.SnapshotBuilder], None] | None = None,
) -> Path:
    """Run ``func`` (it must raise), capture the failure as a worker would, write it."""
    builder = snapshot.SnapshotBuilder()
    try:
        func(*args, **(kwargs or {}))
    except Exception as exc:
        # Frame 0 is this helper; the worker's capture likewise skips its own frames.
        builder.capture_exception(exc, skip_frames=1)
    else:
        raise AssertionError(f"{func!r} did not raise")
    builder.set_call(func, args, kwargs)
    builder.add_inputs(dict(inputs or {}))
    builder.manifest["task"] = {"key": task_key}
    if edit is not None:
        edit(builder)
    builder.write(path, key=key)
    return path


@pytest.fixture
def job() -> dict[str, Any]:
    return compile_job()


@pytest.fixture(name="compile_job")
def compile_job_fixture() -> Callable[..., dict[str, Any]]:
    return compile_job


@pytest.fixture
def recip_snapshot(tmp_path: Path, job: dict[str, Any]) -> Path:
    """The seed's failure: ``recip(0)``, whose input came from ``dec(1)``."""
    return write_snapshot(
        tmp_path / "written-here" / "recip.zst", job["recip"], (0,), inputs={"dec-abc": 0}
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory other than the one that wrote the snapshot."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    python_code: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m replay ARGS`` as a user would, commands for pdb on stdin."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REPLAY_TEST_", "DASK_SNAPSHOT__KEY"))
    }
    environ.pop("PYTHONBREAKPOINT", None)
    environ.update(env or {})
    command = [sys.executable]
    command += ["-c", python_code] if python_code else ["-m", "replay"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


@pytest.fixture
def make_snapshot() -> Callable[..., Path]:
    return write_snapshot


# Hypothesis profiles, as in tests/snapshot (HYPOTHESIS_PROFILE=ci|dev|fuzz).
for _name, _examples in (("ci", 25), ("dev", 200), ("fuzz", 5_000)):
    hypothesis.settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        print_blob=True,
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
