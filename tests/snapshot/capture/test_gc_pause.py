"""The cyclic collector is paused while a capture runs, and only then.

Read from inside the capture (a local whose ``__reduce__`` notes
``gc.isenabled()``) and after it; a collector the process disabled stays
disabled; a capture abandoned past its stall budget leaves the collector on
while it is still stuck.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from snapshot import Capturer, CaptureSettings, capture_failures


class Witness:
    """Notes whether the collector was enabled when it was pickled."""

    seen: list[bool] = []

    def __reduce__(self) -> tuple[Any, ...]:
        Witness.seen.append(gc.isenabled())
        return (Witness, ())


class Stuck:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def __getstate__(self) -> dict[str, Any]:
        self.entered.set()
        self.release.wait(30)
        return {}


def _fails(obj: Any) -> None:
    raise ValueError("the task failed")


def _capture(tmp_path: Path, obj: Any, **settings: Any) -> None:
    capturer = Capturer(CaptureSettings(directory=tmp_path / "snaps", **settings))
    with pytest.raises(ValueError):
        capture_failures(capturer)(_fails)(obj)


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.enable() if enabled else gc.disable()


def test_paused_during_the_capture_and_restored_after(tmp_path: Path) -> None:
    Witness.seen.clear()
    gc.enable()
    _capture(tmp_path, Witness())
    assert Witness.seen == [False]
    assert gc.isenabled()


def test_a_collector_the_process_disabled_stays_disabled(tmp_path: Path) -> None:
    Witness.seen.clear()
    gc.disable()
    _capture(tmp_path, Witness())
    assert Witness.seen == [False]
    assert not gc.isenabled()


def test_an_abandoned_capture_leaves_the_collector_on(tmp_path: Path) -> None:
    gc.enable()
    stuck = Stuck()
    try:
        _capture(tmp_path, stuck, capture_stall_timeout=0.3)
        assert stuck.entered.is_set() and not stuck.release.is_set()
        assert gc.isenabled()  # the capture thread is still in __getstate__
    finally:
        stuck.release.set()
