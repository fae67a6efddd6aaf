"""``read_manifest`` reads a small first frame in one call, and any other first frame as
a stream; both read the same manifest and refuse the same damage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crafting import MANIFEST, compress, manifest_bytes, member, tar_bytes
from samples import build_small

import snapshot
from snapshot._read import opening


def _one_call(path: Path) -> object:
    """What the one-call path makes of the file (None: it leaves it to the stream)."""
    with path.open("rb") as fh:
        return opening._manifest_of_small_frame(fh, str(path), snapshot.ReadLimits())


def _archive(manifest: bytes, *rest: tuple) -> bytes:
    return tar_bytes([member("manifest.json", manifest), *rest])


def test_a_genuine_snapshot_takes_one_call(tmp_path: Path) -> None:
    path = build_small(tmp_path / "small.tar.zst")
    data = _one_call(path)
    assert data is not None
    assert json.loads(bytes(data)) == snapshot.read_manifest(path)


def test_a_manifest_that_goes_on_in_the_next_frame_is_read_as_a_stream(tmp_path: Path) -> None:
    raw = _archive(manifest_bytes(note="x" * 3000))
    path = tmp_path / "split.zst"
    path.write_bytes(compress(raw[:1500]) + compress(raw[1500:]))
    assert _one_call(path) is None
    assert snapshot.read_manifest(path)["note"] == "x" * 3000


def test_a_first_frame_beyond_the_bound_is_read_as_a_stream(tmp_path: Path) -> None:
    big = member("pieces/p0.pkl", bytes(range(256)) * 2048)  # 512 KiB in the first frame
    path = tmp_path / "one-frame.zst"
    path.write_bytes(compress(_archive(manifest_bytes(), big)))
    assert _one_call(path) is None
    assert snapshot.read_manifest(path) == MANIFEST


@pytest.mark.parametrize("where", ["checksum", "content"])
def test_damage_in_the_first_frame_is_refused_by_both(tmp_path: Path, where: str) -> None:
    frame = bytearray(compress(_archive(manifest_bytes(note="y" * 200))))
    frame[-1 if where == "checksum" else len(frame) // 2] ^= 0x40
    path = tmp_path / "damaged.zst"
    path.write_bytes(bytes(frame))
    assert _one_call(path) is None  # no verdict of its own: the stream reader gives it
    with pytest.raises(snapshot.SnapshotFormatError):
        snapshot.read_manifest(path)


def test_a_bad_first_member_is_refused_as_before(tmp_path: Path) -> None:
    path = tmp_path / "no-manifest.zst"
    path.write_bytes(compress(tar_bytes([member("pieces/p0.pkl", b"x")])))
    assert _one_call(path) is None
    with pytest.raises(snapshot.SnapshotFormatError, match=r"manifest\.json"):
        snapshot.read_manifest(path)


def test_a_frame_declaring_gigabytes_is_not_decompressed_in_one_call(tmp_path: Path) -> None:
    """A 1 KiB frame whose header declares 3 GiB: a one-call decompress would allocate
    the declared size (a hostile file reserving gigabytes per manifest read). Under a
    1 GiB address-space limit the manifest is still read and refused as corrupt."""
    import subprocess
    import sys

    import zstandard

    raw = _archive(manifest_bytes())
    frame = zstandard.ZstdCompressor(write_checksum=True, write_content_size=True).compress(raw)
    descriptor = frame[4]
    assert descriptor >> 6 in (1, 2)  # a 2- or 4-byte declared size: made 8 bytes below
    size_bytes = {1: 2, 2: 4}[descriptor >> 6]
    single = bool(descriptor & 0x20)
    head = 5 + (0 if single else 1)
    lying = (
        frame[:4]
        + bytes([(descriptor & 0x3F) | 0xC0])
        + frame[5:head]
        + (3 * 2**30).to_bytes(8, "little")
        + frame[head + size_bytes :]
    )
    path = tmp_path / "lying.zst"
    path.write_bytes(lying)
    assert _one_call(path) is None
    code = (
        "import resource, sys, snapshot\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))\n"
        "try:\n"
        "    snapshot.read_manifest(sys.argv[1])\n"
        "except snapshot.SnapshotError as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "SnapshotFormatError", done.stderr
