"""Every damage to a snapshot's bytes gives a SnapshotError, never another exception.

The file itself, truncation, bit flips, forged frame sizes and bombs; the tar
members and the manifest are in ``test_corrupt_members.py``.  A read never
hangs (pytest-timeout guards each test) and never writes a file (see
``damage.py``).  A damaged file that a reader accepts must read back exactly
as the undamaged one (a flip in a byte that carries no content, such as a zstd
window size, may be harmless).
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import hypothesis
import numpy as np
import pytest
from crafting import (
    compress,
    decompress,
    forged_frame,
    frame_ends,
    manifest_bytes,
    member,
    rle_frame,
    tar_bytes,
    write_archive,
)
from damage import both_refuse, listing, no_new_files, reads_as_original, refused
from hypothesis import strategies as st

import snapshot
from snapshot import (
    ReadLimits,
    SnapshotFormatError,
    SnapshotLimitError,
    SnapshotNotFoundError,
    SnapshotReadError,
    SnapshotTruncatedError,
    open_snapshot,
    read_manifest,
)

pytestmark = pytest.mark.timeout(120)
__all__ = ["no_new_files"]  # the autouse fixture: every test here is checked by it


# -- the file itself ---------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    message = both_refuse(tmp_path / "nope.tar.zst", SnapshotNotFoundError)
    assert "nope.tar.zst" in message and "no such file" in message


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    message = both_refuse(tmp_path / "dir", SnapshotReadError)
    assert "directory" in message


def test_fifo_does_not_hang(tmp_path: Path) -> None:
    # Opening a FIFO for reading waits for a writer: the reader must not.
    fifo = tmp_path / "pipe.tar.zst"
    os.mkfifo(fifo)
    message = both_refuse(fifo, SnapshotReadError)
    assert "not a regular file" in message


def test_device_is_refused() -> None:
    for read in (read_manifest, open_snapshot):
        with pytest.raises(SnapshotReadError, match="not a regular file"):
            read("/dev/null")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar.zst"
    path.write_bytes(b"")
    message = both_refuse(path, SnapshotFormatError)
    assert "not a snapshot" in message and "empty" in message


@pytest.mark.parametrize(
    "head",
    [
        b"\x28\xb5\x2f\xfe",  # one bit off the zstd magic
        b"PK\x03\x04",  # a zip file
        b"\x1f\x8b\x08\x00",  # gzip
        b"\x50\x2a\x4d\x18",  # a zstd skippable frame
        b"{\n",  # a bare manifest
    ],
)
def test_wrong_magic(small_snapshot: Path, head: bytes) -> None:
    data = small_snapshot.read_bytes()
    small_snapshot.write_bytes(head + data[4:])
    both_refuse(small_snapshot, SnapshotFormatError)


def test_uncompressed_tar_is_not_a_snapshot(small_snapshot: Path) -> None:
    small_snapshot.write_bytes(decompress(small_snapshot))
    message = both_refuse(small_snapshot, SnapshotFormatError)
    assert "not a snapshot" in message


# -- truncation and bit flips --------------------------------------------------


def test_truncated_at_every_offset(tiny_snapshot: Path) -> None:
    data = tiny_snapshot.read_bytes()
    original = open_snapshot(tiny_snapshot)
    damaged = tiny_snapshot.with_name("cut.tar.zst")
    before = listing(tiny_snapshot.parent) | {damaged.name}
    for offset in range(len(data)):
        damaged.write_bytes(data[:offset])
        reads_as_original(damaged, original, truncated=True)
    assert listing(tiny_snapshot.parent) == before


def test_truncated_multi_frame(tmp_path: Path) -> None:
    # A large buffer: writers may give it zstd frames of its own, and a cut at
    # a frame boundary leaves complete frames with a cut-short tar inside.
    builder = snapshot.SnapshotBuilder()
    builder.add(np.arange(5 * 2**20 // 8, dtype=np.float64), label="big")
    builder.add({"after": list(range(100))}, label="small")
    path = builder.write(tmp_path / "multi.tar.zst")
    data = path.read_bytes()
    ends = frame_ends(data)
    offsets = {0, 1, 4, 5, 17, len(data) // 2, len(data) - 5, len(data) - 4, len(data) - 1}
    for end in ends[:-1]:
        offsets.update({end - 1, end, end + 1, end + 4, end + 20})
    damaged = tmp_path / "cut.tar.zst"
    for offset in sorted(o for o in offsets if 0 <= o < len(data)):
        damaged.write_bytes(data[:offset])
        message = refused(damaged)
        assert "cut.tar.zst" in message


def test_truncated_says_truncated(small_snapshot: Path) -> None:
    data = small_snapshot.read_bytes()
    small_snapshot.write_bytes(data[: len(data) - 100])
    message = refused(small_snapshot, SnapshotTruncatedError)
    assert "truncated" in message and "copy" in message


def test_bit_flip_in_every_byte(tiny_snapshot: Path) -> None:
    data = tiny_snapshot.read_bytes()
    original = open_snapshot(tiny_snapshot)
    damaged = tiny_snapshot.with_name("flipped.tar.zst")
    before = listing(tiny_snapshot.parent) | {damaged.name}
    for offset in range(len(data)):
        flipped = bytearray(data)
        flipped[offset] ^= 1 << (offset % 8)
        damaged.write_bytes(flipped)
        reads_as_original(damaged, original, flipped=True)
    assert listing(tiny_snapshot.parent) == before


@pytest.fixture(scope="module")
def small_original(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, snapshot.Snapshot]:
    from samples import build_small

    path = build_small(tmp_path_factory.mktemp("original") / "small.tar.zst")
    return path.read_bytes(), open_snapshot(path)


@hypothesis.given(bits=st.lists(st.integers(0, 2**20), min_size=1, max_size=8, unique=True))
def test_random_bit_flips(
    tmp_path_factory: pytest.TempPathFactory,
    small_original: tuple[bytes, snapshot.Snapshot],
    bits: list[int],
) -> None:
    data, original = small_original
    raw = bytearray(data)
    for bit in bits:
        bit %= len(raw) * 8
        raw[bit // 8] ^= 1 << (bit % 8)
    path = tmp_path_factory.mktemp("flips") / "flipped.tar.zst"
    path.write_bytes(raw)
    reads_as_original(path, original, flipped=True)


def test_content_damage_is_caught_by_the_frame_checksum(tmp_path: Path) -> None:
    # Stored (raw) blocks hold the tar bytes as they are: a flip in a buffer's
    # bytes decompresses "fine", and only the frame checksum notices.
    builder = snapshot.SnapshotBuilder()
    builder.add(np.random.default_rng(0).bytes(200_000), label="noise")
    path = builder.write(tmp_path / "noise.tar.zst")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(data)
    message = refused(path, SnapshotFormatError)
    assert "corrupt" in message


def test_frame_without_checksum(small_snapshot: Path) -> None:
    small_snapshot.write_bytes(compress(decompress(small_snapshot), checksum=False))
    message = refused(small_snapshot, SnapshotFormatError)
    assert "checksum" in message


def test_trailing_garbage_after_the_frames(small_snapshot: Path) -> None:
    small_snapshot.write_bytes(small_snapshot.read_bytes() + b"garbage!")
    refused(small_snapshot, SnapshotFormatError)


def test_skippable_frame_after_the_snapshot(small_snapshot: Path) -> None:
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"abcd"
    small_snapshot.write_bytes(small_snapshot.read_bytes() + skippable)
    refused(small_snapshot, SnapshotFormatError)


# -- forged sizes and bombs ---------------------------------------------------


@pytest.mark.parametrize("declared", [10 * 10**9, 2**40, 2**64 - 1])
def test_forged_frame_declaring_a_huge_size(tmp_path: Path, declared: int) -> None:
    path = tmp_path / "forged.tar.zst"
    path.write_bytes(forged_frame(declared))
    assert path.stat().st_size == 20
    message = both_refuse(path, SnapshotLimitError)
    assert str(declared) in message


def test_forged_frame_after_a_genuine_one(small_snapshot: Path) -> None:
    small_snapshot.write_bytes(small_snapshot.read_bytes() + forged_frame(10 * 10**9))
    message = refused(small_snapshot, SnapshotLimitError)
    assert str(10 * 10**9) in message


@pytest.fixture(scope="module")
def two_gib_of_zeros() -> bytes:
    """2 GiB of zeros, compressed with a checksum: about 64 KiB."""
    import io

    import zstandard

    out = io.BytesIO()
    zeros = bytes(16 * 2**20)
    compressor = zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=False)
    with compressor.stream_writer(out, closefd=False) as writer:
        for _ in range(128):
            writer.write(zeros)
    return out.getvalue()


SMALL = ReadLimits(max_total_bytes=16 * 2**20, max_member_bytes=8 * 2**20)


def test_bomb_of_zeros_after_the_archive(tmp_path: Path, two_gib_of_zeros: bytes) -> None:
    # A valid archive, then 2 GiB of zeros (which tar readers accept as padding).
    head = compress(tar_bytes([member("manifest.json", manifest_bytes())]))
    path = tmp_path / "bomb.tar.zst"
    path.write_bytes(head + two_gib_of_zeros)
    assert path.stat().st_size < 100_000
    message = refused(path, SnapshotLimitError, limits=SMALL)
    assert str(SMALL.max_total_bytes) in message


def test_bomb_of_64_gib_is_not_expanded(tmp_path: Path) -> None:
    # A manifest, then a frame of RLE blocks: 2 MiB on disk, 64 GiB of zeros.
    manifest = manifest_bytes()
    head = tar_bytes([member("manifest.json", manifest)])[: 512 + -(-len(manifest) // 512) * 512]
    path = tmp_path / "bomb.tar.zst"
    path.write_bytes(compress(head) + rle_frame(2**19))
    progress: list[tuple[int, int]] = []
    with pytest.raises(SnapshotLimitError):
        open_snapshot(
            path, limits=SMALL, progress=lambda done, total: progress.append((done, total))
        )
    done, total = progress[-1]
    assert done < total, "the reader consumed the whole bomb instead of stopping at the limit"
    assert read_manifest(path) == json.loads(manifest)


@pytest.mark.parametrize("window_log", [29, 31, 41])
def test_frame_asking_for_a_huge_window(tmp_path: Path, window_log: int) -> None:
    # Window_Descriptor: exponent (Window_Log - 10) in the high 5 bits.  zstd
    # decoders refuse windows above 2**27 by default (spec 3.2): no allocation.
    frame = bytearray(rle_frame(4))
    frame[5] = (window_log - 10) << 3
    path = tmp_path / "window.tar.zst"
    path.write_bytes(bytes(frame))
    both_refuse(path, SnapshotFormatError)


def test_bomb_of_zeros_alone(tmp_path: Path, two_gib_of_zeros: bytes) -> None:
    path = tmp_path / "bomb.tar.zst"
    path.write_bytes(two_gib_of_zeros)
    both_refuse(path, SnapshotFormatError, limits=SMALL)


def test_bomb_in_one_member(tmp_path: Path) -> None:
    # The header declares 2 GiB: refused from the header, before any data.
    manifest = manifest_bytes()
    head = tar_bytes([member("manifest.json", manifest)])[: 512 + -(-len(manifest) // 512) * 512]
    info = tarfile.TarInfo("buffers/b0")
    info.size = 2 * 2**30
    path = tmp_path / "bomb.tar.zst"
    path.write_bytes(compress(head + info.tobuf(tarfile.PAX_FORMAT) + bytes(1 << 20)))
    message = refused(path, SnapshotLimitError, limits=SMALL)
    assert "buffers/b0" in message and str(2 * 2**30) in message


def test_bomb_in_many_members(tmp_path: Path) -> None:
    chunk = bytes(4 * 2**20)
    members = [member("manifest.json", manifest_bytes())]
    members += [member(f"buffers/b{i}", chunk) for i in range(8)]
    path = write_archive(tmp_path / "bomb.tar.zst", members)
    message = refused(path, SnapshotLimitError, limits=SMALL)
    assert "max_total_bytes" in message
