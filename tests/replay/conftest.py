"""Fixtures for the replay tests: the job's functions, snapshots of their failures, the CLI.

The helpers themselves live in ``jobs.py``; tests/snapshot's hostile-input
helpers (``crafting``, ``strategies``) are importable from here too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "snapshot"))

from jobs import compile_job, run_cli, write_snapshot


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
