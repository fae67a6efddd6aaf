"""Every limit, exactly at its boundary: the limit passes, one less is refused.

In the manner of msgpack's ``test_limits.py``.  Each quantity is measured
independently of the reader (with ``tarfile`` and ``zstandard``), so these tests
also pin what the spec's Limits section says each limit counts.
"""

from __future__ import annotations

import operator
import tempfile
from pathlib import Path

import numpy as np
import pytest
from crafting import compress, decompress, manifest_bytes, member, members_of, tar_bytes

from snapshot import (
    ReadLimits,
    SnapshotBuilder,
    SnapshotLimitError,
    WriteLimits,
    open_snapshot,
    read_manifest,
)
from snapshot._record import replace

KEY = b"limits"


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    """A snapshot with several members of different sizes, a buffer and a signature."""
    builder = SnapshotBuilder()
    try:
        operator.truediv(1, 0)
    except ZeroDivisionError as exc:
        builder.capture_exception(exc)
    builder.set_call(operator.truediv, [1, 0])
    builder.add_inputs({"a": np.arange(3000, dtype=np.int16), "b": "text" * 50})
    return builder.write(tmp_path / "limits.tar.zst", key=KEY)


def accepts(path: Path, **fields: int) -> bool:
    limits = replace(ReadLimits(), **fields)
    try:
        open_snapshot(path, key=KEY, allow_unsigned=True, limits=limits)
    except SnapshotLimitError:
        return False
    return True


def manifest_accepts(path: Path, **fields: int) -> bool:
    limits = replace(ReadLimits(), **fields)
    try:
        read_manifest(path, limits=limits)
    except SnapshotLimitError:
        return False
    return True


def _padded(n: int) -> int:
    return -(-n // 512) * 512


def test_defaults() -> None:
    assert ReadLimits() == ReadLimits(
        max_total_bytes=8 * 2**30,
        max_member_bytes=4 * 2**30,
        max_members=100_000,
        max_manifest_bytes=64 * 2**20,
    )
    assert WriteLimits() == WriteLimits(
        max_piece_bytes=2**30,
        max_total_bytes=4 * 2**30,
        max_source_bytes=2 * 2**20,
        max_repr_chars=200,
    )


# -- ReadLimits --------------------------------------------------------------------


def test_max_total_bytes(signed: Path) -> None:
    # Everything decompressed: headers, data, padding, end blocks, record padding.
    total = len(decompress(signed))
    assert accepts(signed, max_total_bytes=total)
    assert not accepts(signed, max_total_bytes=total - 1)


def test_max_total_bytes_reading_the_manifest(signed: Path) -> None:
    # read_manifest decompresses the first header and the manifest's blocks only.
    size = len(members_of(signed)[0][1])
    needed = 512 + _padded(size)
    assert manifest_accepts(signed, max_total_bytes=needed)
    assert not manifest_accepts(signed, max_total_bytes=needed - 1)


def test_max_total_bytes_against_a_declared_frame_size(tmp_path: Path) -> None:
    raw = tar_bytes([member("manifest.json", manifest_bytes())])
    path = tmp_path / "declared.tar.zst"
    path.write_bytes(compress(raw, content_size=True))
    assert accepts(path, max_total_bytes=len(raw))
    assert not accepts(path, max_total_bytes=len(raw) - 1)
    with pytest.raises(SnapshotLimitError, match=f"declares {len(raw)} bytes"):
        read_manifest(path, limits=ReadLimits(max_total_bytes=len(raw) - 1))


def test_max_member_bytes(signed: Path) -> None:
    largest = max(len(data) for _, data in members_of(signed))
    assert accepts(signed, max_member_bytes=largest)
    assert not accepts(signed, max_member_bytes=largest - 1)


def test_max_member_bytes_reading_the_manifest(signed: Path) -> None:
    size = len(members_of(signed)[0][1])
    assert manifest_accepts(signed, max_member_bytes=size)
    assert not manifest_accepts(signed, max_member_bytes=size - 1)


def test_max_members(signed: Path) -> None:
    count = len(members_of(signed))  # manifest.json and signature.json included
    assert members_of(signed)[-1][0] == "signature.json"
    assert accepts(signed, max_members=count)
    assert not accepts(signed, max_members=count - 1)
    assert manifest_accepts(signed, max_members=1)
    assert not manifest_accepts(signed, max_members=0)


def test_max_manifest_bytes(signed: Path) -> None:
    size = len(members_of(signed)[0][1])
    assert accepts(signed, max_manifest_bytes=size)
    assert not accepts(signed, max_manifest_bytes=size - 1)
    assert manifest_accepts(signed, max_manifest_bytes=size)
    assert not manifest_accepts(signed, max_manifest_bytes=size - 1)


def test_limit_error_names_the_file_and_the_limit(signed: Path) -> None:
    with pytest.raises(SnapshotLimitError) as info:
        open_snapshot(signed, key=KEY, limits=ReadLimits(max_members=2))
    assert str(signed) in str(info.value) and "max_members" in str(info.value)


# -- WriteLimits -------------------------------------------------------------------

ARRAY = np.arange(1000, dtype=np.float32)


def _piece(limits: WriteLimits, obj: object = ARRAY) -> dict:
    """The piece record of ``obj`` as written under ``limits``."""
    builder = SnapshotBuilder(limits=limits)
    pid = builder.add(obj, label="x")
    with tempfile.TemporaryDirectory() as directory:
        path = builder.write(Path(directory) / "piece.tar.zst")
        return read_manifest(path)["pieces"][pid]


def test_max_piece_bytes() -> None:
    size = _piece(WriteLimits())["size"]
    assert _piece(WriteLimits(max_piece_bytes=size))["status"] == "stored"
    assert _piece(WriteLimits(max_piece_bytes=size - 1))["status"] == "omitted"


def test_max_total_bytes_for_writing() -> None:
    size = _piece(WriteLimits())["size"]
    assert _piece(WriteLimits(max_total_bytes=size))["status"] == "stored"
    assert _piece(WriteLimits(max_total_bytes=size - 1))["status"] == "omitted"


def test_max_repr_chars() -> None:
    text = "y" * 500
    full = len(repr(text))
    assert _piece(WriteLimits(max_repr_chars=full), text)["repr"] == repr(text)
    shortened = _piece(WriteLimits(max_repr_chars=full - 1), text)["repr"]
    assert len(shortened) <= full - 1 and shortened != repr(text)


def test_modules_without_a_scan(tmp_path: Path) -> None:
    """The writer notes the modules of what it pickles by name, whatever the pickle's size."""
    assert "numpy" in _piece(WriteLimits())["modules"]


def _frames_source(limits: WriteLimits) -> str | None:
    builder = SnapshotBuilder(limits=limits)
    try:
        operator.truediv(1, 0)
    except ZeroDivisionError as exc:
        builder.capture_exception(exc)
    return builder.manifest["frames"][-1]["source"]


def test_max_source_bytes() -> None:
    size = len(Path(__file__).read_bytes())
    assert _frames_source(WriteLimits(max_source_bytes=size)) == __file__
    assert _frames_source(WriteLimits(max_source_bytes=size - 1)) is None


def test_reading_the_manifest_does_not_read_the_rest(tmp_path: Path) -> None:
    """Its cost does not grow with the snapshot: a 1 MiB budget reads a 16 MiB one."""
    builder = SnapshotBuilder()
    builder.add(np.random.default_rng(0).random(2 * 2**20), label="big")  # 16 MiB
    path = builder.write(tmp_path / "big.tar.zst")
    budget = ReadLimits(max_total_bytes=2**20)
    assert read_manifest(path, limits=budget)["pieces"]
    with pytest.raises(SnapshotLimitError):
        open_snapshot(path, limits=budget)
