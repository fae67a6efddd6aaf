"""The manifest has the first zstd frame to itself, so reading it alone verifies it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import zstandard

import snapshot


def _written(tmp_path: Path) -> Path:
    builder = snapshot.SnapshotBuilder()
    builder.add(np.arange(2_000_000), label="big")  # 16 MB: a frame of its own
    builder.manifest["task"] = {"key": "recip-1"}
    return builder.write(tmp_path / "s.tar.zst")


def test_first_frame_is_the_manifest_member_alone(tmp_path: Path) -> None:
    data = _written(tmp_path).read_bytes()
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=False)
    first = reader.read(1 << 20)
    # one tar header, the JSON, its padding: nothing of the next member
    assert first[:13] == b"manifest.json"
    assert first.rstrip(b"\0").endswith(b"}")
    assert len(first) % 512 == 0


def test_a_bit_flip_in_the_manifest_is_caught_by_read_manifest(tmp_path: Path) -> None:
    path = _written(tmp_path)
    original = path.read_bytes()
    caught = 0
    for offset in range(20, 120, 7):  # inside the first frame's compressed manifest
        damaged = bytearray(original)
        damaged[offset] ^= 0x10
        path.write_bytes(damaged)
        try:
            manifest = snapshot.read_manifest(path)
        except snapshot.SnapshotError:
            caught += 1
        else:  # pragma: no cover - would be a silent wrong manifest
            pytest.fail(f"flip at {offset} read as a manifest: {manifest.get('task')}")
    assert caught
