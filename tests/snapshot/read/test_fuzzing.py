"""Structure-aware fuzzing of the reader: damage that the zstd checksum cannot see.

``test_corruption.py`` damages the compressed bytes, which the frame checksum
catches.  Here the damage is made *inside* the stream (tar headers, member
data, manifest JSON) and then compressed again with a valid checksum, as a
buggy or hostile writer would.  Whatever the reader is given, opening,
inspecting and loading raise nothing but ``SnapshotError``.

With ``HYPOTHESIS_PROFILE=fuzz`` these run thousands of examples.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from crafting import compress, decompress, member, members_of, tar_bytes
from hypothesis import strategies as st

from snapshot import (
    SnapshotError,
    SnapshotUnpickleError,
    open_snapshot,
    read_manifest,
    read_model,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def tar_stream(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from samples import build_small

    path = build_small(tmp_path_factory.mktemp("fuzz") / "small.tar.zst", frames=False)
    return decompress(path)


def exercise(path: Path) -> None:
    """Read, inspect and load everything; only SnapshotError may come out."""
    try:
        read_manifest(path)
    except SnapshotError:
        pass
    try:
        snap = open_snapshot(path)
    except SnapshotError:
        return
    repr(snap)
    model = snap.model
    accessors: list[Any] = [snap.call, snap.inputs, snap.exception, snap.imports]
    accessors += [lambda i=i: snap.frame_locals(i) for i in range(len(model.frames))]
    accessors += [lambda f=f: snap.source(f) for f in model.sources or {}]
    accessors += [lambda p=p: snap.load(p) for p in model.pieces or {}]
    accessors += [lambda p=p: snap.piece_bytes(p) for p in model.pieces or {}]
    # The raw manifest's own names too: a caller may ask for what the model left out.
    raw = snap.manifest
    for name, access in (("sources", snap.source), ("pieces", snap.load)):
        if isinstance(raw.get(name), dict):
            accessors += [lambda k=k, a=access: a(k) for k in raw[name]]
    for access in accessors:
        try:
            access()
        except SnapshotUnpickleError:
            pass  # a damaged pickle fails to load: that is its job
        except SnapshotError:
            pass


@hypothesis.given(
    edits=st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), min_size=1, max_size=6)
)
def test_damaged_tar_stream(
    tmp_path_factory: pytest.TempPathFactory,
    tar_stream: bytes,
    edits: list[tuple[int, int]],
) -> None:
    raw = bytearray(tar_stream)
    for position, value in edits:
        raw[position % len(raw)] = value
    path = tmp_path_factory.mktemp("fuzz") / "damaged.tar.zst"
    path.write_bytes(compress(bytes(raw)))
    exercise(path)


@hypothesis.given(cut=st.integers(0, 2**16), extra=st.binary(max_size=600))
def test_cut_and_extended_tar_stream(
    tmp_path_factory: pytest.TempPathFactory, tar_stream: bytes, cut: int, extra: bytes
) -> None:
    raw = tar_stream[: cut % len(tar_stream)] + extra
    path = tmp_path_factory.mktemp("fuzz") / "cut.tar.zst"
    path.write_bytes(compress(raw))
    exercise(path)


NAMES = st.one_of(
    st.sampled_from(
        [
            "manifest.json",
            "pieces/p0.pkl",
            "buffers/b0",
            "sources/0.py",
            "signature.json",
            "../x",
            "/etc/x",
            "a/../../b",
            "x" * 150,
        ]
    ),
    st.text(min_size=1, max_size=20),
)
KINDS = st.sampled_from(
    [
        tarfile.REGTYPE,
        tarfile.REGTYPE,
        tarfile.AREGTYPE,
        tarfile.SYMTYPE,
        tarfile.DIRTYPE,
    ]
)


@hypothesis.given(
    members=st.lists(st.tuples(NAMES, st.binary(max_size=64), KINDS), max_size=6),
    manifest_first=st.booleans(),
)
def test_arbitrary_tar_members(
    tmp_path_factory: pytest.TempPathFactory,
    members: list[tuple[str, bytes, bytes]],
    manifest_first: bool,
) -> None:
    chosen = [member(name, data, kind=kind) for name, data, kind in members]
    if manifest_first:
        chosen.insert(0, member("manifest.json", b'{"format": "dask-replay-snapshot"}'))
    try:
        raw = tar_bytes(chosen)
    except (ValueError, UnicodeError):
        hypothesis.reject()  # tarfile refuses to write some names (NUL characters)
    path = tmp_path_factory.mktemp("fuzz") / "members.tar.zst"
    path.write_bytes(compress(raw))
    exercise(path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
SECTIONS = st.sampled_from(
    [
        "call",
        "inputs",
        "exception",
        "frames",
        "pieces",
        "buffers",
        "sources",
        "error",
        "modules",
    ]
)


@hypothesis.given(
    changes=st.dictionaries(SECTIONS, JSON | st.dictionaries(st.sampled_from(["p0", "b0"]), JSON))
)
def test_arbitrary_manifest_sections(
    tmp_path_factory: pytest.TempPathFactory,
    tar_stream: bytes,
    changes: dict[str, Any],
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "manifest.tar.zst"
    path.write_bytes(compress(tar_stream))
    members = members_of(path)
    manifest = json.loads(members[0][1])
    manifest.update(changes)
    members[0] = ("manifest.json", json.dumps(manifest).encode())
    path.write_bytes(compress(tar_bytes([member(n, d) for n, d in members])))
    exercise(path)


@hypothesis.given(data=st.data())
def test_every_manifest_field_mutated(
    tmp_path_factory: pytest.TempPathFactory, tar_stream: bytes, data: st.DataObject
) -> None:
    """Any field of a genuine manifest replaced, added or removed, with any JSON value
    (surrogates, controls, huge integers, nesting): every accessor gives a value or a
    SnapshotError.  A TypeError of ours would fail here: nothing turns it into 'corrupt'."""
    from strategies import mutated_manifests

    path = tmp_path_factory.mktemp("fuzz") / "fields.tar.zst"
    path.write_bytes(compress(tar_stream))
    members = members_of(path)
    manifest = data.draw(mutated_manifests(json.loads(members[0][1])))
    members[0] = ("manifest.json", json.dumps(manifest).encode())
    path.write_bytes(compress(tar_bytes([member(n, d) for n, d in members])))
    exercise(path)
    try:
        read_model(path)
        open_snapshot(path, head_only=True).imports()
    except SnapshotError:
        pass
