"""While a capture runs, the heap that existed before it is frozen out of the cyclic
collector's walks, and only then; the collector itself stays on for the other threads.

Read from inside the capture (a local whose ``__reduce__`` notes the freeze count
and whether the collector is enabled) and after it; a process that froze objects
itself keeps its freeze; a capture abandoned past its stall budget holds no freeze
while it is still stuck.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from snapshot import Capturer, CaptureSettings, capture_failures


class Witness:
    """Notes the freeze count and whether the collector was enabled when pickled."""

    seen: list[tuple[int, bool]] = []

    def __reduce__(self) -> tuple[Any, ...]:
        Witness.seen.append((gc.get_freeze_count(), gc.isenabled()))
        return (Witness, ())


class Stuck:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def __getstate__(self) -> dict[str, Any]:
        self.entered.set()
        self.release.wait(30)
        return {}


class Cycle:
    def __init__(self) -> None:
        self.me = self


def _fails(obj: Any) -> None:
    raise ValueError("the task failed")


def _capture(tmp_path: Path, obj: Any, **settings: Any) -> None:
    capturer = Capturer(CaptureSettings(directory=tmp_path / "snaps", **settings))
    with pytest.raises(ValueError):
        capture_failures(capturer)(_fails)(obj)


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable() if enabled else gc.disable()


def test_the_heap_is_frozen_during_the_capture_and_back_after(tmp_path: Path) -> None:
    Witness.seen.clear()
    gc.enable()
    _capture(tmp_path, Witness())
    [(frozen, enabled)] = Witness.seen
    assert frozen > 1000 and enabled  # the heap set aside; the collector still on
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_garbage_made_by_another_thread_during_a_capture_is_collected(tmp_path: Path) -> None:
    """The other threads of a worker keep their collector during a capture: a cycle
    they drop is freed by the collections their own allocations set off."""
    freed = threading.Event()

    class Making:
        def __reduce__(self) -> tuple[Any, ...]:
            def other_thread() -> None:
                cycle = Cycle()
                weakref.finalize(cycle, freed.set)
                del cycle
                kept = [[] for _ in range(50_000)]  # far past the youngest generation's threshold
                del kept

            t = threading.Thread(target=other_thread)
            t.start()
            t.join()
            return (Witness, ())

    _capture(tmp_path, Making())
    assert freed.is_set()


def test_a_freeze_of_the_process_is_left_alone(tmp_path: Path) -> None:
    Witness.seen.clear()
    gc.freeze()
    before = gc.get_freeze_count()
    _capture(tmp_path, Witness())
    assert gc.get_freeze_count() >= before  # never unfrozen by the capture


def test_an_abandoned_capture_holds_no_freeze(tmp_path: Path) -> None:
    stuck = Stuck()
    try:
        _capture(tmp_path, stuck, capture_stall_timeout=0.3)
        assert stuck.entered.is_set() and not stuck.release.is_set()
        assert gc.get_freeze_count() == 0  # the capture thread is still in __getstate__
    finally:
        stuck.release.set()
