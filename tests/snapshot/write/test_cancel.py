"""Cancelling a capture from another thread: what was stored is still written.

A ``__getstate__`` that blocks keeps the capturing thread inside pickle; once
``cancel`` is set, the pickle stops at its next write, reference or reduction
and the piece is ``omitted`` ("capture abandoned: ..."); later pieces are
recorded the same way at once, and the manifest is written.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from snapshot import Placeholder, SnapshotBuilder, open_snapshot, read_manifest


class Blocking:
    """Its ``__getstate__`` waits for ``release`` (a stand-in for a network call)."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        self.entered = entered
        self.release = release

    def __getstate__(self) -> dict[str, Any]:
        self.entered.set()
        self.release.wait(30)
        # Then a large state: the pickler writes it, and notices the cancel.
        return {"rows": [{"row": i} for i in range(200_000)]}


def test_cancel_from_another_thread_abandons_the_pickle_in_progress(tmp_path: Path) -> None:
    entered, release, cancel = threading.Event(), threading.Event(), threading.Event()
    builder = SnapshotBuilder(cancel=cancel)
    first = builder.add({"kept": 1}, label="kept")
    done: dict[str, str] = {}

    def capture() -> None:
        done["blocking"] = builder.add([Blocking(entered, release)], label="slow")
        done["later"] = builder.add(list(range(10)), label="later")

    worker = threading.Thread(target=capture)
    worker.start()
    assert entered.wait(30)
    assert builder.current_label == "slow"
    builder.cancel_reason = "snapshot.capture-timeout (5 s) passed"
    cancel.set()
    release.set()
    worker.join(30)
    assert not worker.is_alive()
    assert builder.current_label is None
    path = builder.write(tmp_path / "cancelled.tar.zst")
    pieces = read_manifest(path)["pieces"]
    for name in ("blocking", "later"):
        record = pieces[done[name]]
        assert record["status"] == "omitted"
        assert record["reason"] == "capture abandoned: snapshot.capture-timeout (5 s) passed"
        assert record["repr"] == ""
    assert builder.left_out() == [
        "slow (capture abandoned: snapshot.capture-timeout (5 s) passed)",
        "later (capture abandoned: snapshot.capture-timeout (5 s) passed)",
    ]
    kinds = {entry["label"]: entry["kind"] for entry in builder.report}
    assert kinds == {"kept": "stored", "slow": "abandoned", "later": "abandoned"}
    snap = open_snapshot(path)
    assert snap.load(first) == {"kept": 1}
    assert isinstance(snap.load(done["later"]), Placeholder)


def test_cancel_set_before_adding_records_placeholders_at_once(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    builder = SnapshotBuilder(cancel=cancel)
    pid = builder.add(list(range(1_000_000)), label="big")
    try:
        raise ValueError("the task's own error")
    except ValueError as exc:
        builder.capture_exception(exc)
    path = builder.write(tmp_path / "c.tar.zst")
    manifest = read_manifest(path)
    assert manifest["pieces"][pid]["reason"] == "capture abandoned: cancelled"
    assert manifest["error"]["message"] == "the task's own error"
    assert manifest["frames"]
