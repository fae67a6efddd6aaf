"""Snapshots of real cluster failures, made once per session (a cluster costs seconds)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_failures import make_failures


@pytest.fixture(scope="session")
def cluster_snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_failures(tmp_path_factory.mktemp("cluster"))
