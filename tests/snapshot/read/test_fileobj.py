"""Reading from a file object (``fileobj=``), the entry point for remote storage.

``path`` then only names the snapshot; every check applies as to a file, and a
head-only read asks the file for little more than the head.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import snapshot


def recip(x: np.ndarray) -> float:
    return 1 / 0


class CountingReader(io.BytesIO):
    """Bytes in memory that count what is read of them."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        self.bytes_read += len(data)
        return data

    def readinto(self, b: object) -> int:
        n = super().readinto(b)  # type: ignore[arg-type]
        self.bytes_read += n
        return n


def _written(tmp_path: Path) -> bytes:
    data = np.frombuffer(np.random.default_rng(0).bytes(8 << 20), dtype=np.uint8)
    builder = snapshot.SnapshotBuilder()
    try:
        recip(data)
    except ZeroDivisionError as exc:
        builder.capture_exception(exc, skip_frames=1)
    builder.set_call(recip, [data])
    return builder.write(tmp_path / "s.tar.zst", key=b"k").read_bytes()


def test_a_file_object_reads_like_the_file_and_messages_name_the_given_path(
    tmp_path: Path,
) -> None:
    data = _written(tmp_path)
    name = "s3://bucket/s.tar.zst"
    whole = snapshot.open_snapshot(name, fileobj=io.BytesIO(data), key=b"k")
    assert whole.path == name and whole.verified
    assert (
        snapshot.read_manifest(name, fileobj=io.BytesIO(data))["format"] == "dask-replay-snapshot"
    )

    head = CountingReader(data)
    assert snapshot.open_snapshot(name, fileobj=head, head_only=True).head_only
    assert head.bytes_read < len(data) // 10
    manifest_only = CountingReader(data)
    snapshot.read_manifest(name, fileobj=manifest_only)
    assert manifest_only.bytes_read < 200_000

    with pytest.raises(snapshot.SnapshotTruncatedError, match=r"^s3://bucket/s\.tar\.zst: "):
        snapshot.open_snapshot(name, fileobj=io.BytesIO(data[: len(data) // 2]))
