"""Every damage to a snapshot gives a SnapshotError, never another exception.

And it never hangs (pytest-timeout guards each test) and never writes a file:
the directory of the damaged file is listed before and after it is read, and
the working directory before and after each test.  A damaged file that a
reader accepts must read back exactly as the undamaged one (a flip in a byte
that carries no content, such as a zstd window size, may be harmless).
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator
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
    members_of,
    rle_frame,
    tar_bytes,
    write_archive,
)
from hypothesis import strategies as st

import snapshot
from snapshot import (
    ReadLimits,
    SnapshotError,
    SnapshotFormatError,
    SnapshotLimitError,
    SnapshotNotFoundError,
    SnapshotReadError,
    SnapshotTruncatedError,
    SnapshotVersionError,
    open_snapshot,
    read_manifest,
    read_model,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def no_new_files() -> Iterator[None]:
    """Fail a test whose readers created a file in the working directory.

    (The directory of the file read is checked around each read, in ``refused``.)
    """
    cwd = Path.cwd()
    before_cwd = set(os.listdir(cwd))
    yield
    # (Hypothesis keeps its example database in .hypothesis/ of the working directory.)
    created = set(os.listdir(cwd)) - before_cwd - {".hypothesis"}
    assert not created, f"files appeared in the working directory: {created}"


def listing(directory: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(d, f), directory)
        for d, _, files in os.walk(directory)
        for f in files
    }


def refused(path: Path, expected: type[SnapshotError] = SnapshotError, **kw: object) -> str:
    """``open_snapshot`` raises ``expected``; ``read_manifest`` raises a SnapshotError or
    returns (the damage may lie past the manifest); neither writes a file.

    Returns the message of the ``open_snapshot`` error.
    """
    before = listing(path.parent)
    try:
        open_snapshot(path, **kw)  # type: ignore[arg-type]
    except BaseException as exc:
        assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
        message = str(exc)
    else:
        pytest.fail(f"open_snapshot accepted the damaged file {path}")
    limits = kw.get("limits")
    try:
        read_manifest(path, limits=limits)  # type: ignore[arg-type]
    except BaseException as exc:
        assert isinstance(exc, SnapshotError), f"{type(exc).__name__}: {exc}"
    assert listing(path.parent) == before
    return message


def both_refuse(path: Path, expected: type[SnapshotError] = SnapshotError, **kw: object) -> str:
    """Both ``open_snapshot`` and ``read_manifest`` raise ``expected``."""
    message = refused(path, expected, **kw)
    with pytest.raises(expected):
        read_manifest(path, limits=kw.get("limits"))  # type: ignore[arg-type]
    return message


def reads_as_original(
    path: Path, original: snapshot.Snapshot, *, flipped: bool = False, truncated: bool = False
) -> None:
    """Either refused with a SnapshotError, or read back exactly as ``original``.

    A ``truncated`` file must be refused by ``open_snapshot``.

    ``read_manifest`` stops at the end of the manifest, before the frame
    checksum (spec 8.7): after a bit flip it may return a damaged manifest,
    but still only a dict or a SnapshotError.
    """
    try:
        snap = open_snapshot(path)
    except BaseException as exc:
        assert isinstance(exc, SnapshotError), f"{type(exc).__name__}: {exc}"
    else:
        assert not truncated, f"open_snapshot accepted the truncated file {path}"
        assert snap.manifest == original.manifest
        for pid, record in original.manifest["pieces"].items():
            if record["status"] == "stored":
                assert snap.piece_bytes(pid) == original.piece_bytes(pid)
    try:
        manifest = read_manifest(path)
    except BaseException as exc:
        assert isinstance(exc, SnapshotError), f"{type(exc).__name__}: {exc}"
    else:
        assert isinstance(manifest, dict)
        if not flipped:
            assert manifest == original.manifest


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


# -- unsafe and malformed tar members ----------------------------------------


UNSAFE_NAMES = [
    "../x",
    "/etc/x",
    "pieces/../../x",
    "a//b",
    "./../x",
    "x\\..\\y",
    "pieces/p0 .pkl",
    "pieces/p0.pkl\n",  # "$" in a regular expression matches before a final newline
    "pieces/",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
@pytest.mark.parametrize("position", ["first", "second"])
def test_unsafe_member_name(tmp_path: Path, name: str, position: str) -> None:
    hostile = member(name, b"owned")
    manifest = member("manifest.json", manifest_bytes())
    members = [hostile, manifest] if position == "first" else [manifest, hostile]
    path = write_archive(tmp_path / "unsafe.tar.zst", members)
    existed = Path("/etc/x").exists()
    message = refused(path, SnapshotFormatError)
    assert repr(name) in message or "manifest.json" in message
    assert not (tmp_path.parent / "x").exists()
    assert Path("/etc/x").exists() == existed


def test_unsafe_name_in_a_pax_header(tmp_path: Path) -> None:
    # The ustar name field is harmless; the pax "path" record overrides it.
    name = "../" + "x" * 120
    path = write_archive(
        tmp_path / "pax.tar.zst",
        [member("manifest.json", manifest_bytes()), member(name, b"owned")],
    )
    message = refused(path, SnapshotFormatError)
    assert "unsafe member name" in message


@pytest.mark.parametrize(
    "kind, attrs",
    [
        (tarfile.SYMTYPE, {"linkname": "/etc/passwd"}),
        (tarfile.LNKTYPE, {"linkname": "manifest.json"}),
        (tarfile.DIRTYPE, {}),
        (tarfile.CHRTYPE, {"devmajor": 1, "devminor": 3}),
        (tarfile.FIFOTYPE, {}),
    ],
    ids=["symlink", "hardlink", "directory", "device", "fifo"],
)
def test_non_regular_member(tmp_path: Path, kind: bytes, attrs: dict[str, object]) -> None:
    path = write_archive(
        tmp_path / "special.tar.zst",
        [member("manifest.json", manifest_bytes()), member("pieces", kind=kind, **attrs)],
    )
    message = refused(path, SnapshotFormatError)
    assert "not a regular file" in message


def test_gnu_long_name_member(tmp_path: Path) -> None:
    path = write_archive(
        tmp_path / "gnu.tar.zst",
        [member("manifest.json", manifest_bytes()), member("p" * 150, b"data")],
        fmt=tarfile.GNU_FORMAT,
    )
    refused(path, SnapshotFormatError)


def test_member_larger_than_the_stream_holds(tmp_path: Path) -> None:
    # A header that declares more data than the archive has.
    manifest = manifest_bytes()
    raw = bytearray(tar_bytes([member("manifest.json", manifest), member("pieces/p0.pkl", b"ab")]))
    second = raw.index(b"pieces/p0.pkl")
    info = tarfile.TarInfo.frombuf(bytes(raw[second : second + 512]), "utf-8", "strict")
    info.size = 10 * 2**20
    raw[second : second + 512] = info.tobuf(tarfile.USTAR_FORMAT)
    path = tmp_path / "short.tar.zst"
    path.write_bytes(compress(bytes(raw[: second + 1024])))
    message = refused(path, SnapshotTruncatedError)
    assert "ends early" in message


def test_buffer_member_larger_than_the_manifest_declares(small_snapshot: Path) -> None:
    members = members_of(small_snapshot)
    manifest = json.loads(members[0][1])
    (_bid, entry), *_ = manifest["buffers"].items()
    grown = [(n, d + b"\0" * 8 if n == entry["member"] else d) for n, d in members]
    write_archive(small_snapshot, [member(n, d) for n, d in grown])
    message = refused(small_snapshot, SnapshotFormatError)
    assert entry["member"] in message and "declares" in message


def test_source_member_size_differs(small_snapshot: Path) -> None:
    members = members_of(small_snapshot)
    manifest = json.loads(members[0][1])
    source = next(iter(manifest["sources"].values()))
    changed = [(n, d[:-1] if n == source["member"] else d) for n, d in members]
    write_archive(small_snapshot, [member(n, d) for n, d in changed])
    refused(small_snapshot, SnapshotFormatError)


def test_source_member_content_differs(small_snapshot: Path) -> None:
    members = members_of(small_snapshot)
    manifest = json.loads(members[0][1])
    source = next(iter(manifest["sources"].values()))
    changed = [(n, d.upper() if n == source["member"] else d) for n, d in members]
    write_archive(small_snapshot, [member(n, d) for n, d in changed])
    assert "SHA-256" in refused(small_snapshot, SnapshotFormatError)


def test_duplicate_member(tmp_path: Path) -> None:
    path = write_archive(
        tmp_path / "dup.tar.zst",
        [
            member("manifest.json", manifest_bytes()),
            member("pieces/p0.pkl", b"a"),
            member("pieces/p0.pkl", b"b"),
        ],
    )
    assert "duplicate" in refused(path, SnapshotFormatError)


def test_member_after_the_signature(tmp_path: Path) -> None:
    path = write_archive(
        tmp_path / "late.tar.zst",
        [
            member("manifest.json", manifest_bytes()),
            member("signature.json", b'{"algorithm": "hmac-sha256", "mac": ""}'),
            member("pieces/p0.pkl", b"a"),
        ],
    )
    assert "follows the signature" in refused(path, SnapshotFormatError)


def test_data_after_the_end_of_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "after.tar.zst"
    raw = tar_bytes([member("manifest.json", manifest_bytes())], trailing=b"\1" * 512)
    path.write_bytes(compress(raw))
    refused(path, SnapshotFormatError)


def test_damaged_tar_header_checksum(small_snapshot: Path) -> None:
    raw = bytearray(decompress(small_snapshot))
    raw[0] ^= 0x20  # first letter of "manifest.json"; the header checksum no longer matches
    small_snapshot.write_bytes(compress(bytes(raw)))
    assert "tar header" in both_refuse(small_snapshot, SnapshotFormatError)


def test_damaged_pax_header(tmp_path: Path) -> None:
    raw = bytearray(tar_bytes([member("manifest.json", manifest_bytes()), member("p" * 120, b"x")]))
    start = raw.index(b" path=")
    raw[start - 3 : start] = b"zzz"  # the record length is no longer a number
    path = tmp_path / "pax.tar.zst"
    path.write_bytes(compress(bytes(raw)))
    refused(path, SnapshotFormatError)


# -- the manifest --------------------------------------------------------------


def test_manifest_not_first(tmp_path: Path) -> None:
    path = write_archive(
        tmp_path / "order.tar.zst",
        [member("pieces/p0.pkl", b"x"), member("manifest.json", manifest_bytes())],
    )
    message = both_refuse(path, SnapshotFormatError)
    assert "pieces/p0.pkl" in message and "manifest.json" in message


def test_no_members_at_all(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "empty-tar.tar.zst", [])
    both_refuse(path, SnapshotFormatError)


@pytest.mark.parametrize(
    "text",
    [
        b"not json",
        b"\xff\xfe{}",
        b"[1, 2]",
        b'"dask-replay-snapshot"',
        b"{}",
        b'{"format": "something-else", "format_version": "1.0"}',
        b'{"format": "dask-replay-snapshot"}',
        b'{"format": "dask-replay-snapshot", "format_version": 1.0}',
        b'{"format": "dask-replay-snapshot", "format_version": "1"}',
        b'{"format": "dask-replay-snapshot", "format_version": "1.0.0"}',
        b'{"format": "dask-replay-snapshot", "format_version": "1.0", "x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        b'{"format": "dask-replay-snapshot", "format_version": "1.0", "x": ' + b"7" * 5000 + b"}",
    ],
    ids=[
        "not-json",
        "not-utf8",
        "array",
        "string",
        "empty-object",
        "other-format",
        "no-version",
        "version-number",
        "version-major-only",
        "version-three-parts",
        "deep-nesting",
        "huge-integer",
    ],
)
def test_bad_manifest(tmp_path: Path, text: bytes) -> None:
    path = write_archive(tmp_path / "bad.tar.zst", [member("manifest.json", text)])
    both_refuse(path, SnapshotFormatError)


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("pieces", [], "manifest field `pieces` is a list, not an object: ignored"),
        ("frames", {}, "manifest field `frames` is an object, not a list: ignored"),
    ],
)
def test_a_section_of_the_wrong_type_is_absent_and_said_so(
    tmp_path: Path, field: str, value: object, problem: str
) -> None:
    """A wrong-typed field is no reason to refuse the file: it is absent, and named."""
    text = manifest_bytes(**{field: value})
    path = write_archive(tmp_path / "odd.tar.zst", [member("manifest.json", text)])
    opened = open_snapshot(path)
    assert opened.model.problems == (problem,)
    assert read_model(path).problems == (problem,)
    with pytest.raises(SnapshotFormatError, match="holds no call"):
        opened.call()


def test_newer_major_version(tmp_path: Path) -> None:
    path = write_archive(
        tmp_path / "future.tar.zst",
        [member("manifest.json", manifest_bytes(format_version="2.0"))],
    )
    message = both_refuse(path, SnapshotVersionError)
    assert "2.0" in message and "1.x" in message and "future.tar.zst" in message


def test_unknown_members_and_fields_are_ignored(small_snapshot: Path) -> None:
    """Forward compatibility: a 1.x reader reads a later 1.y file."""
    before = open_snapshot(small_snapshot)
    members = members_of(small_snapshot)
    manifest = json.loads(members[0][1])
    manifest["format_version"] = "1.9"
    manifest["added_in_1_9"] = {"anything": [1, 2, 3]}
    for record in manifest["pieces"].values():
        record["new_per_piece_field"] = True
    manifest["error"]["new_error_field"] = "x"
    rewritten = [member("manifest.json", json.dumps(manifest).encode())]
    rewritten += [member(n, d) for n, d in members[1:]]
    rewritten.insert(2, member("notes/added-in-1.9.txt", b"something new"))
    rewritten.append(member("zz-unknown", b"\x00\x01"))
    write_archive(small_snapshot, rewritten)

    assert read_manifest(small_snapshot)["added_in_1_9"] == {"anything": [1, 2, 3]}
    after = open_snapshot(small_snapshot)
    assert after.call()[0] is before.call()[0]
    assert after.call()[1:] == before.call()[1:]
    np.testing.assert_array_equal(after.inputs()[("x", 0)], before.inputs()[("x", 0)])


@pytest.mark.parametrize(
    "section, value, access",
    [
        ("call", {"func": ["not", "a", "pid"]}, lambda s: s.call()),
        ("call", {"args": []}, lambda s: s.call()),
        ("call", 7, lambda s: s.call()),
        ("inputs", [{"no-key": 1}], lambda s: s.inputs()),
        ("inputs", 5, lambda s: s.inputs()),
        ("exception", {"pid": 1}, lambda s: s.exception()),
        ("frames", [7], lambda s: [s.frame_locals(i) for i in range(len(s.model.frames))]),
        ("pieces", {"p0": {"status": "stored", "member": "pieces/p0.pkl", "buffers": 3}}, None),
        ("pieces", {"p0": {"status": "stored", "member": ["x"]}}, None),
        ("buffers", {"b0": "buffers/b0"}, None),
        ("sources", {"f.py": {"member": ["x"], "size": 1}}, lambda s: s.source("f.py")),
    ],
)
def test_malformed_manifest_sections(small_snapshot: Path, section, value, access) -> None:
    """What reads a section of the wrong shape gets a value or a SnapshotError, never a
    crash of ours (the model names the wrong types: test_manifest_model.py)."""
    members = members_of(small_snapshot)
    manifest = json.loads(members[0][1])
    manifest[section] = value
    rewritten = [member("manifest.json", json.dumps(manifest).encode())]
    rewritten += [member(n, d) for n, d in members[1:]]
    write_archive(small_snapshot, rewritten)
    snap = open_snapshot(small_snapshot)
    try:
        if access is not None:
            access(snap)
        else:
            snap.load("p0")
            repr(snap)
    except BaseException as exc:
        assert isinstance(exc, SnapshotError), f"{type(exc).__name__}: {exc}"
