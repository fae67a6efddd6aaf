"""Writing is atomic and private, fails cleanly, and falls back to the manifest alone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from crafting import members_of

from snapshot import (
    Placeholder,
    SnapshotBuilder,
    SnapshotWriteError,
    open_snapshot,
    read_manifest,
)
from snapshot._write.stream import member_header

PYTHON = sys.executable


def test_written_file_is_private_and_alone(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = SnapshotBuilder().write(tmp_path / "new" / "s.tar.zst")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["s.tar.zst"]


def test_overwrite_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "s.tar.zst"
    first = SnapshotBuilder()
    first.add("first", label="x")
    first.write(target)
    second = SnapshotBuilder()
    pid = second.add("second", label="x")
    second.write(target)
    assert open_snapshot(target).load(pid) == "second"
    assert os.listdir(tmp_path) == ["s.tar.zst"]


def test_directory_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(SnapshotWriteError) as info:
        SnapshotBuilder().write(tmp_path / "plain-file" / "s.tar.zst")
    assert "plain-file" in str(info.value)
    assert os.listdir(tmp_path) == ["plain-file"]


def test_target_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(SnapshotWriteError):
        SnapshotBuilder().write(tmp_path / "taken")
    assert os.listdir(tmp_path) == ["taken"]
    assert os.listdir(tmp_path / "taken") == []


def test_disk_full_mid_write_leaves_nothing(tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes write() fail with EFBIG part-way, as a full disk would.
    script = textwrap.dedent(
        """
        import os, resource, signal, sys
        import numpy as np
        import snapshot
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        builder = snapshot.SnapshotBuilder()
        builder.add(np.random.default_rng(0).bytes(4 * 2**20), label="noise")
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))
        try:
            builder.write(sys.argv[1])
        except snapshot.SnapshotWriteError as exc:
            print("SnapshotWriteError", exc)
        """
    )
    target = tmp_path / "out" / "s.tar.zst"
    target.parent.mkdir()
    done = subprocess.run(
        [PYTHON, "-c", script, str(target)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("SnapshotWriteError"), done.stdout + done.stderr
    assert "s.tar.zst" in done.stdout
    assert os.listdir(target.parent) == []


def test_manifest_only_write(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    try:
        sorted([1, "a"])
    except TypeError as exc:
        builder.capture_exception(exc)
    builder.set_call(sorted, [np.arange(1000)])
    path = builder.write(tmp_path / "m.tar.zst", pieces=False, reason="disk full")
    names = [n for n, _ in members_of(path)]
    assert names[0] == "manifest.json"
    assert all(n == "manifest.json" or n.startswith("sources/") for n in names)
    manifest = read_manifest(path)
    assert manifest["buffers"] == {}
    assert manifest["capture"]["complete"] is False
    assert manifest["capture"]["stored_bytes"] == 0
    for record in manifest["pieces"].values():
        assert record["status"] in ("omitted", "redacted")
        assert "member" not in record
    func_record = manifest["pieces"][manifest["call"]["func"]]
    assert func_record["reason"] == "left out: disk full"
    snap = open_snapshot(path)
    assert isinstance(snap.call()[0], Placeholder)
    assert snap.source(manifest["frames"][-1]["source"]) == Path(__file__).read_text()


@pytest.mark.parametrize(
    "name, size",
    [
        ("manifest.json", 1234),
        ("pieces/p12.pkl", 0),
        ("buffers/b3", 8**11 - 1),
        ("x" * 99, 5),
        ("x" * 100, 5),
        ("sources/é.py", 3),
        ("buffers/b1", 8**11),
    ],
)
def test_member_headers_are_those_tarfile_writes(name: str, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, 0o600, 1_764_000_000, tarfile.REGTYPE
    expected = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    assert member_header(name, size, 1_764_000_000) == expected
