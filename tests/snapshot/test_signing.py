"""HMAC signing: the spec's signing input, verification, tampering, unsigned files."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from crafting import member, members_of, write_archive

import snapshot
from snapshot import (
    SnapshotBuilder,
    SnapshotSignatureError,
    open_snapshot,
)

KEY = b"test key, not a secret"


def _signed(tmp_path: Path) -> Path:
    builder = SnapshotBuilder()
    builder.set_call(sorted, [[3, 1, 2]])
    builder.add(np.arange(10), label="array")
    return builder.write(tmp_path / "signed.tar.zst", key=KEY)


def test_signed_and_verified(tmp_path: Path) -> None:
    path = _signed(tmp_path)
    names = [name for name, _ in members_of(path)]
    assert names[0] == "manifest.json" and names[-1] == "signature.json"
    snap = open_snapshot(path, key=KEY)
    assert snap.signed and snap.verified and snap.manifest["signed"] is True
    assert snap.call()[0] is sorted
    unchecked = open_snapshot(path)
    assert unchecked.signed and not unchecked.verified


def test_signing_input_is_as_specified(tmp_path: Path) -> None:
    """specs/snapshot-format.md, section 6, computed independently of the reader."""
    members = members_of(_signed(tmp_path))
    *content, (last, signature) = members
    assert last == "signature.json"
    mac = hmac.new(KEY, digestmod=hashlib.sha256)
    for name, data in content:
        encoded = name.encode()
        mac.update(len(encoded).to_bytes(4, "big") + encoded + len(data).to_bytes(8, "big"))
        mac.update(data)
    expected = {"algorithm": "hmac-sha256", "members": len(content), "mac": mac.hexdigest()}
    assert json.loads(signature) == expected


def test_wrong_key(tmp_path: Path) -> None:
    path = _signed(tmp_path)
    with pytest.raises(SnapshotSignatureError, match="does not match"):
        open_snapshot(path, key=b"another key")


def _rewrite(path: Path, change: Any) -> None:
    members = change(members_of(path))
    write_archive(path, [member(name, data) for name, data in members])


@pytest.mark.parametrize(
    "change",
    [
        lambda ms: [(n, d[:-1] + b"\x00" if n.startswith("pieces/") else d) for n, d in ms],
        lambda ms: [
            (n, d.replace(b'"call.func"', b'"call.fnuc"') if n == "manifest.json" else d)
            for n, d in ms
        ],
        lambda ms: [ms[0], *reversed(ms[1:-1]), ms[-1]],
        lambda ms: [ms[0], *ms[2:]],
        lambda ms: [*ms[:-1], ("pieces/extra.pkl", b"\x80\x05N."), ms[-1]],
        lambda ms: [(n.replace("pieces/p0", "pieces/q0"), d) for n, d in ms],
    ],
    ids=["piece-bytes", "manifest", "reordered", "member-removed", "member-added", "renamed"],
)
def test_tampering_is_detected(tmp_path: Path, change: Any) -> None:
    path = _signed(tmp_path)
    _rewrite(path, change)
    with pytest.raises(SnapshotSignatureError):
        open_snapshot(path, key=KEY)


def test_unsigned_refused_unless_allowed(tmp_path: Path) -> None:
    path = _signed(tmp_path)
    _rewrite(path, lambda ms: ms[:-1])  # drop signature.json
    with pytest.raises(SnapshotSignatureError, match="not signed"):
        open_snapshot(path, key=KEY)
    snap = open_snapshot(path, key=KEY, allow_unsigned=True)
    assert not snap.signed and not snap.verified
    assert snap.call()[0] is sorted


def test_unknown_algorithm_refused(tmp_path: Path) -> None:
    path = _signed(tmp_path)
    _rewrite(
        path,
        lambda ms: [
            (n, d.replace(b"hmac-sha256", b"hmac-md5") if n == "signature.json" else d)
            for n, d in ms
        ],
    )
    with pytest.raises(SnapshotSignatureError):
        open_snapshot(path, key=KEY)


def test_tampered_buffer_is_reported_as_tampered(tmp_path: Path) -> None:
    # A grown buffer also contradicts the manifest; with a key, the signature speaks first.
    path = _signed(tmp_path)
    _rewrite(path, lambda ms: [(n, d + b"!" if n.startswith("buffers/") else d) for n, d in ms])
    with pytest.raises(SnapshotSignatureError):
        open_snapshot(path, key=KEY)
    with pytest.raises(snapshot.SnapshotFormatError, match="declares"):
        open_snapshot(path)


@pytest.mark.parametrize(
    "mac",
    ["\ud800", "\udc80" * 64, "é" * 64, 7, None, ["x"], {"a": 1}, "0" * 10_000],
    ids=["lone-surrogate", "escaped-surrogates", "non-ascii", "int", "null", "list", "obj", "long"],
)
def test_a_mac_of_any_shape_is_a_mismatch_never_a_crash(tmp_path: Path, mac: Any) -> None:
    path = _signed(tmp_path)
    members = members_of(path)
    signature = json.loads(members[-1][1])
    signature["mac"] = mac
    members[-1] = ("signature.json", json.dumps(signature).encode())
    write_archive(path, [member(n, d) for n, d in members])
    with pytest.raises(SnapshotSignatureError, match="does not match"):
        open_snapshot(path, key=KEY)


def test_an_unreferenced_member_is_skipped_but_signed(tmp_path: Path) -> None:
    """A member no piece refers to is not held (spec 8.10), yet the MAC covers it."""
    *content, _ = members_of(_signed(tmp_path))
    content.append(("pieces/newer-writer.bin", b"x" * (3 << 20)))  # streams in steps
    mac = hmac.new(KEY, digestmod=hashlib.sha256)
    for name, data in content:
        encoded = name.encode()
        mac.update(len(encoded).to_bytes(4, "big") + encoded + len(data).to_bytes(8, "big"))
        mac.update(data)
    signature = {"algorithm": "hmac-sha256", "members": len(content), "mac": mac.hexdigest()}
    path = tmp_path / "extra.zst"
    write_archive(
        path,
        [member(n, d) for n, d in [*content, ("signature.json", json.dumps(signature).encode())]],
    )
    snap = open_snapshot(path, key=KEY)
    assert snap.verified and "pieces/newer-writer.bin" not in snap.members
    assert snap.call()[0] is sorted
    kept = open_snapshot(path, key=KEY, keep_unreferenced=True)
    assert bytes(kept.members["pieces/newer-writer.bin"]) == b"x" * (3 << 20)
    content[-1] = ("pieces/newer-writer.bin", b"y" * (3 << 20))
    _rewrite(path, lambda ms: [*content, ms[-1]])
    with pytest.raises(SnapshotSignatureError):
        open_snapshot(path, key=KEY)
