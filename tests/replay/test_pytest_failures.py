"""``pytest --snapshot-failures DIR``: a failing test leaves one snapshot, opened under --frames.

A real ``python -m pytest`` in a subprocess on a small suite (one failing test
with a fixture, one passing, one expected failure); then the real CLI opens the
snapshot in another directory, pdb on stdin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTEST = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider")

SUITE = """
import pytest


@pytest.fixture
def rows():
    return [3, 1, 0]


def test_ratio(rows):
    first, last = rows[0], rows[-1]
    assert first / last > 1


def test_fine(rows):
    assert sum(rows) == 4


@pytest.mark.xfail(raises=KeyError)
def test_known_bug():
    {}["missing"]
"""


def _environ() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    environ.pop("PYTHONBREAKPOINT", None)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    return environ


def test_a_failing_test_leaves_one_snapshot_that_opens_elsewhere(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_numbers.py").write_text(SUITE)
    snapshots = tmp_path / "snapshots"
    run = subprocess.run(
        [*PYTEST, "test_numbers.py", "--snapshot-failures", str(snapshots)],
        capture_output=True,
        text=True,
        cwd=suite,
        env=_environ(),
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed, 1 xfailed" in run.stdout
    files = sorted(snapshots.glob("*.tar.zst"))
    assert len(files) == 1  # the failing test only: not the passing one, not the xfail
    assert "dask-replay: snapshot written to" in run.stdout and str(files[0]) in run.stdout

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    frames = subprocess.run(
        [sys.executable, "-m", "replay", "--frames", str(files[0])],
        input="p rows\np first, last\nq\n",
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=_environ(),
        timeout=120,
    )
    assert frames.returncode == 0, frames.stderr
    assert "(Pdb) [3, 1, 0]\n" in frames.stdout  # the fixture's value, as the test got it
    assert "(Pdb) (3, 0)\n" in frames.stdout
    assert "test_numbers.py" in frames.stdout  # the test's own frame, not pytest's


def test_without_the_option_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "test_numbers.py").write_text(SUITE)
    environ = _environ()
    environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # where snapshot.directory would be
    run = subprocess.run(
        [*PYTEST, "test_numbers.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
    )
    assert run.returncode == 1
    assert "snapshot written" not in run.stdout
    assert not (tmp_path / "cache").exists()
