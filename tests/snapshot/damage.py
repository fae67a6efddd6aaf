"""Checks shared by the damaged-file tests: refused with our errors, nothing written.

A damaged file is read by ``open_snapshot`` and ``read_manifest``; each either
raises a :class:`snapshot.SnapshotError` or (where the damage carries no
content) reads back exactly as the undamaged file, and neither writes a file.
Test modules import :func:`no_new_files` to make it their autouse fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import snapshot
from snapshot import SnapshotError, open_snapshot, read_manifest


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
