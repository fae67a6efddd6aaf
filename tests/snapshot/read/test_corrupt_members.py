"""Every damage to a snapshot's tar members or manifest gives a SnapshotError.

Unsafe and malformed members, sizes and checksums that disagree with the
manifest, and manifests that are missing, malformed or of the wrong version;
the bytes around them are in ``test_corruption.py``.  Nothing read here writes
a file (see ``damage.py``).
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from crafting import (
    compress,
    decompress,
    manifest_bytes,
    member,
    members_of,
    tar_bytes,
    write_archive,
)
from damage import both_refuse, no_new_files, refused

from snapshot import (
    SnapshotError,
    SnapshotFormatError,
    SnapshotTruncatedError,
    SnapshotVersionError,
    open_snapshot,
    read_manifest,
    read_model,
)

pytestmark = pytest.mark.timeout(120)
__all__ = ["no_new_files"]  # the autouse fixture: every test here is checked by it


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


def test_safe_name_answers_as_the_spec_pattern() -> None:
    """``tar.safe_name`` (string methods) against the grammar of spec 3.4 itself."""
    import itertools
    import re

    from snapshot._read import tar

    pieces = ("a", "Z", "0", "_", ".", "-", "/", "..", "//", " ", "\n", "é", "\\", "")
    names = ["".join(p) for p in itertools.product(pieces, repeat=4)]
    names += [*UNSAFE_NAMES, "manifest.json", "pieces/p0.pkl", "sources/s0.py", "buffers/b0"]
    for name in names:
        expected = re.fullmatch(tar.SAFE_NAME, name) is not None
        assert tar.safe_name(name) == expected, repr(name)
