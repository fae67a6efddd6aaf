"""Hypothesis profiles and the small snapshots most tests start from.

Profiles, chosen with ``HYPOTHESIS_PROFILE`` (as python-zstandard does):

* ``ci`` (default): few examples, so the whole directory stays well under a
  minute on two cores;
* ``dev``: more examples, for a change to the writer or the reader;
* ``fuzz``: many examples, for a long run before a release.
"""

from __future__ import annotations

import operator
import os
from pathlib import Path

import hypothesis
import numpy as np
import pytest

import snapshot

hypothesis.settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.register_profile(
    "fuzz",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def build_small(path: Path, *, key: bytes | None = None, frames: bool = True) -> Path:
    """A snapshot of a failed ``operator.truediv(7, 0)`` with one numpy input.

    With ``frames`` (and so this file as a source member) it is about 4 KB;
    without, about 1 KB, for tests that damage every byte.
    """
    builder = snapshot.SnapshotBuilder()
    if frames:
        try:
            operator.truediv(7, 0)
        except ZeroDivisionError as exc:
            builder.capture_exception(exc)
    builder.set_call(operator.truediv, [7, 0], {"round_to": 3})
    builder.add_inputs({("x", 0): np.arange(12, dtype=np.int32), "y": 0})
    return builder.write(path, key=key)


@pytest.fixture
def small_snapshot(tmp_path: Path) -> Path:
    return build_small(tmp_path / "small.dask-snapshot")


@pytest.fixture
def tiny_snapshot(tmp_path: Path) -> Path:
    return build_small(tmp_path / "tiny.dask-snapshot", frames=False)
