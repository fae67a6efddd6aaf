"""Inspection reads the head of a snapshot only: manifest, pickles, sources.

Writers put the out-of-band buffers (the data) last, so ``open_snapshot(...,
head_only=True)`` stops before them and its cost does not grow with the data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snapshot


def recip(x: np.ndarray) -> float:
    return 1 / 0


def _written(tmp_path: Path, *, key: bytes | None = None) -> Path:
    data = np.random.default_rng(0).standard_normal(1_000_000)  # 8 MB, stored raw
    builder = snapshot.SnapshotBuilder()
    try:
        recip(data)
    except ZeroDivisionError as exc:
        builder.capture_exception(exc, skip_frames=1)  # not this frame: it holds the builder
    builder.set_call(recip, [data])
    return builder.write(tmp_path / "s.tar.zst", key=key)


def test_buffers_are_the_last_members(tmp_path: Path) -> None:
    listing = subprocess.run(
        f"zstd -dc {_written(tmp_path)} | tar -t",
        shell=True,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert listing[0] == "manifest.json"
    kinds = [name.split("/")[0] for name in listing[1:]]
    assert kinds == sorted(kinds, key=["pieces", "sources", "buffers"].index)
    assert kinds[-1] == "buffers" and "sources" in kinds


def test_head_only_reads_pickles_and_sources_but_not_the_data(tmp_path: Path) -> None:
    path = _written(tmp_path)
    damaged = bytearray(path.read_bytes())
    middle = len(damaged) // 2  # inside the 8 MB buffer's frame
    damaged[middle : middle + 64] = bytes(64)
    path.write_bytes(damaged)

    head = snapshot.open_snapshot(path, head_only=True)
    assert head.head_only
    assert {"numpy", "test_head_only"} <= {m for ms in head.imports().values() for m in ms}
    frame = head.manifest["frames"][-1]
    assert "return 1 / 0" in (head.source(frame["filename"]) or "")
    with pytest.raises(snapshot.SnapshotFormatError, match="head only"):
        head.call()
    with pytest.raises(snapshot.SnapshotFormatError):
        snapshot.open_snapshot(path)  # the whole read still sees the damage


def test_head_only_cannot_verify_a_signature(tmp_path: Path) -> None:
    path = _written(tmp_path, key=b"k")
    with pytest.raises(ValueError, match="signature covers the whole file"):
        snapshot.open_snapshot(path, key=b"k", head_only=True)


def test_replay_info_does_not_read_the_data(tmp_path: Path) -> None:
    """`info` on a snapshot whose data is damaged still describes it; a replay refuses it."""
    path = _written(tmp_path)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(damaged)
    info = subprocess.run(
        [sys.executable, "-m", "replay", "info", str(path)], capture_output=True, text=True
    )
    assert info.returncode == 0, info.stderr
    assert "ZeroDivisionError" in info.stdout
    replayed = subprocess.run(
        [sys.executable, "-m", "replay", "--no-debug", str(path)], capture_output=True, text=True
    )
    assert replayed.returncode == 3
    assert replayed.stderr.startswith("Error: ")
