"""The whole suite's own cache directory: no test writes into the user's ``~/.cache``.

The hook's default snapshot directory and the client part's copies live under
``$XDG_CACHE_HOME/dask-replay`` (``~/.cache`` without it).  Set for the session,
before any test starts a cluster, so that subprocess workers, kernels and CLI
runs inherit it too.
"""

from __future__ import annotations

import os
import tempfile

import pytest

_CACHE = tempfile.TemporaryDirectory(prefix="dask-replay-tests-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["XDG_CACHE_HOME"] = _CACHE.name


def pytest_unconfigure(config: pytest.Config) -> None:
    _CACHE.cleanup()
