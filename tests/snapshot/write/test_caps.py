"""``max_piece_bytes`` (snapshot.max-object-size) bounds every piece and buffer, wherever it is.

An object too large for the cap is a placeholder whose reason names the cap,
whether it is a piece of its own, met inside another piece (hoisted), made by
another object's ``__reduce__``, or data that would be copied before it is
written (a non-contiguous view or array): such a copy is never made.  The
traceback text, the one free-size text of the manifest, keeps its two ends.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import snapshot
from snapshot import SnapshotBuilder, WriteLimits

MiB = 2**20
CAP = "left out: larger than the per-object cap (1048576 bytes, snapshot.max-object-size)"


class Inflates:
    def __init__(self, n: int) -> None:
        self.n = n

    def __reduce__(self) -> tuple[Any, ...]:
        return (bytes, (b"\0" * self.n,))


def _write(builder: SnapshotBuilder, tmp_path: Path) -> dict[str, Any]:
    path = builder.write(tmp_path / "s.snap")
    assert path.stat().st_size < MiB
    manifest: dict[str, Any] = snapshot.read_manifest(path)
    assert manifest["buffers"] == {}
    return manifest


@pytest.mark.parametrize(
    "make",
    [
        lambda: Inflates(16 * MiB),
        lambda: [Inflates(16 * MiB)],
        lambda: {"k": bytes(16 * MiB)},
        lambda: memoryview(bytearray(32 * MiB))[::2],
        lambda: {"v": memoryview(bytearray(32 * MiB))[::2]},
        lambda: np.zeros((4096, 1024))[:, ::2],
        lambda: {"a": np.zeros((4096, 1024))[:, ::2]},
        lambda: np.zeros(4 * MiB),
    ],
    ids=[
        "reduce",
        "reduce-nested",
        "bytes-nested",
        "view",
        "view-nested",
        "array",
        "array-nested",
        "contiguous-array",
    ],
)
def test_the_cap_reaches_every_piece_and_buffer(make: Any, tmp_path: Path) -> None:
    obj = make()
    builder = SnapshotBuilder(limits=WriteLimits(max_piece_bytes=MiB))
    tracemalloc.start()
    try:
        builder.add(obj, label="call.args[0]")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    manifest = _write(builder, tmp_path)
    reasons = [p.get("reason") for p in manifest["pieces"].values()]
    assert CAP in reasons, manifest["pieces"]
    assert not manifest["capture"]["complete"]
    if not isinstance(obj, Inflates | list):  # those make their 16 MiB themselves
        assert peak < 4 * MiB, peak  # no copy of the data was made for the cap to refuse


def test_the_traceback_text_keeps_its_two_ends(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    try:
        raise ValueError("x" * 10_000_000 + "THE END")
    except ValueError as exc:
        builder.capture_exception(exc)
    manifest = snapshot.read_manifest(builder.write(tmp_path / "s.snap"))
    text = manifest["error"]["traceback"]
    assert len(text) < 500_000
    assert text.startswith("Traceback") and text.rstrip().endswith("THE END")
    assert "characters cut by dask-replay" in text


def test_a_non_contiguous_array_is_copied_a_block_at_a_time(tmp_path: Path) -> None:
    """numpy copies it whole in one call; the capture copies it in blocks, each one
    progress for the stall budget (snapshot.capture-stall-timeout), to the same bytes."""
    strided = np.arange(8 * MiB, dtype=np.int64).reshape(4096, 2048)[::2, ::2]
    builder = SnapshotBuilder()
    before = builder.progress.ticks
    pid = builder.add({"a": strided, "t": strided.T[1:]}, label="call.args[0]")
    assert builder.progress.ticks - before >= 16 // 8  # 16 MiB of data, 8 MiB blocks
    loaded = snapshot.open_snapshot(builder.write(tmp_path / "s.snap")).load(pid)
    assert np.array_equal(loaded["a"], strided) and np.array_equal(loaded["t"], strided.T[1:])


def test_views_of_one_memory_count_once_against_the_cap(tmp_path: Path) -> None:
    """Three contiguous arrays over the same 600 KiB, under a 1 MiB cap: one buffer, stored."""
    data = np.zeros(600 * 1024, dtype=np.uint8)
    builder = SnapshotBuilder(limits=WriteLimits(max_piece_bytes=MiB))
    pid = builder.add({"a": data, "b": data[:], "r": data.reshape(600, 1024)}, label="call.args[0]")
    path = builder.write(tmp_path / "s.snap")
    manifest = snapshot.read_manifest(path)
    assert manifest["pieces"][pid]["status"] == "stored"
    assert [b["size"] for b in manifest["buffers"].values()] == [600 * 1024]
