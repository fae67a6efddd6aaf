"""The capture tests' fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import cluster_hook


@pytest.fixture(autouse=True)
def snapshot_defaults_kept() -> Iterator[None]:
    """``gen_cluster`` ends by restoring the Dask config that ``distributed.utils_test``
    copied when it was imported, which may predate ``cluster_hook``'s ``snapshot.*``
    defaults: put them back for the tests that follow."""
    yield
    cluster_hook.register_defaults()
