"""Hypothesis profiles and the small snapshots most tests start from.

Profiles, chosen with ``HYPOTHESIS_PROFILE`` (as python-zstandard does):

* ``ci`` (default): few examples, so the whole directory stays well under a
  minute on two cores;
* ``dev``: more examples, for a change to the writer or the reader;
* ``fuzz``: many examples, for a long run before a release.
"""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis
import pytest
from samples import build_small

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


@pytest.fixture
def small_snapshot(tmp_path: Path) -> Path:
    return build_small(tmp_path / "small.tar.zst")


@pytest.fixture
def tiny_snapshot(tmp_path: Path) -> Path:
    return build_small(tmp_path / "tiny.tar.zst", frames=False)
