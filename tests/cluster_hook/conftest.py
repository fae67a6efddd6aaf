"""Fixtures of the cluster_hook tests (helpers live in hook_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    path = tmp_path / "snapshots"
    path.mkdir()
    return path
