"""The stall budget (``capture_stall_timeout``) of the capture core, in this process.

A ``__getstate__`` that makes no progress is cut by it, the note naming the
object and the manifest kept; an object whose pickling is slow but steady
(many small ``__reduce__`` calls, longer in total than the stall budget) is
stored whole.  No timing is asserted: the end-to-end bounds are in
``tests/end_to_end/test_capture_bounds.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import snapshot
from snapshot import Capturer, CaptureSettings, capture_failures

STALL = 0.5


class Stuck:
    def __init__(self) -> None:
        self.release = threading.Event()

    def __getstate__(self) -> dict[str, Any]:
        self.release.wait(30)
        return {}


class Step:
    """A ``__reduce__`` that takes a fifth of the stall budget."""

    def __reduce__(self) -> tuple[Any, ...]:
        time.sleep(STALL / 5)
        return (Step, ())


def _fails(obj: Any) -> None:
    raise ValueError("the task failed")


def _capture(tmp_path: Path, obj: Any) -> tuple[ValueError, dict[str, Any]]:
    settings = CaptureSettings(directory=tmp_path / "snaps", capture_stall_timeout=STALL)
    wrapped = capture_failures(Capturer(settings))(_fails)
    try:
        wrapped(obj)
    except ValueError as exc:
        (path,) = sorted((tmp_path / "snaps").glob("*.tar.zst"))
        return exc, snapshot.read_manifest(path)
    raise AssertionError("the call did not fail")


def test_a_stuck_getstate_is_cut_and_the_manifest_kept(tmp_path: Path) -> None:
    stuck = Stuck()
    try:
        exc, manifest = _capture(tmp_path, stuck)
    finally:
        stuck.release.set()
    (note,) = [n for n in exc.__notes__ if "snapshot.capture-stall-timeout" in n]
    assert f"abandoned after {STALL:g} s without progress" in note
    assert "while capturing call.args[0]" in note and "manifest only" in note
    assert manifest["error"]["type"] == "ValueError"
    assert [f["function"] for f in manifest["frames"]][-1] == "_fails"


def test_slow_steady_pickling_is_not_cut(tmp_path: Path) -> None:
    steps = [Step() for _ in range(15)]  # three stall budgets in all
    exc, manifest = _capture(tmp_path, steps)
    assert not [n for n in exc.__notes__ if "abandoned" in n], exc.__notes__
    assert manifest["capture"]["complete"] is True


class StuckLocal:
    """Held by a frame's local only: pickled after the call and the inputs."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def __getstate__(self) -> dict[str, Any]:
        self.release.wait(30)
        return {}


def test_a_local_that_stalls_leaves_the_manifest_in_place(tmp_path: Path) -> None:
    """The abandoned capture, once unstuck, writes nothing over the manifest-only file."""
    release = threading.Event()
    settings = CaptureSettings(directory=tmp_path / "snaps", capture_stall_timeout=STALL)

    def holds_one(x: int) -> None:
        held = StuckLocal(release)  # noqa: F841 - a local the capture pickles
        raise ValueError("the task failed")

    capturer = Capturer(settings)
    try:
        capture_failures(capturer)(holds_one)(1)
    except ValueError as exc:
        (note,) = [n for n in exc.__notes__ if "snapshot.capture-stall-timeout" in n]
        assert "while capturing frames[0].held" in note, note
    release.set()
    deadline = time.monotonic() + 10
    while capturer._stuck and time.monotonic() < deadline:  # the abandoned thread ends
        time.sleep(0.05)
    (path,) = sorted((tmp_path / "snaps").glob("*.tar.zst"))
    assert snapshot.read_manifest(path)["capture"]["stored"] == 0  # the manifest-only file
