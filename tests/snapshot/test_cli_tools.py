"""A snapshot opens with the real ``zstd`` and GNU ``tar``, with no project code.

And the other way round: an archive that ``tar`` and ``zstd`` build from a
snapshot's extracted members (files listed one by one, manifest first) is a
snapshot our reader opens.  The spec's section 12 shows these commands.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from crafting import frame_ends, members_of

from snapshot import SnapshotBuilder, SnapshotFormatError, open_snapshot, read_manifest


def run(command: str, cwd: Path | None = None) -> bytes:
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot with small members, a compressible 5 MiB buffer and a 5 MiB noise buffer.

    The large buffers get zstd frames of their own (the noise one made of raw
    blocks), so the standard tools see a multi-frame stream.
    """
    builder = SnapshotBuilder()
    builder.set_call(sorted, [[3, 1, 2]])
    builder.add_inputs(
        {
            "ramp": np.arange(5 * 2**20 // 8, dtype=np.float64),
            "noise": np.frombuffer(np.random.default_rng(1).bytes(5 * 2**20), dtype=np.uint8),
        }
    )
    try:
        sorted([1, "a"])
    except TypeError as exc:
        builder.capture_exception(exc)
    return builder.write(tmp_path_factory.mktemp("cli") / "cli.tar.zst", key=b"k")


def test_the_stream_has_several_frames(written: Path) -> None:
    assert len(frame_ends(written.read_bytes())) > 1
    assert open_snapshot(written, key=b"k").verified


def test_zstd_checks_every_frame(written: Path) -> None:
    run(f"zstd -q -t {written}")


def test_tar_lists_manifest_first(written: Path) -> None:
    listing = run(f"zstd -dc {written} | tar -tv").decode().splitlines()
    names = [line.split()[-1] for line in listing]
    assert names[0] == "manifest.json"
    assert names == [name for name, _ in members_of(written)]
    assert names[-1] == "signature.json"
    assert all(line.startswith("-rw-------") for line in listing)


def test_tar_prints_the_manifest(written: Path) -> None:
    text = run(f"tar --zstd -xOf {written} manifest.json")
    assert json.loads(text) == read_manifest(written)


def test_zstd_decompresses_to_the_tar_stream(written: Path) -> None:
    size = len(run(f"zstd -dc {written}"))
    assert size % 10240 == 0


@pytest.mark.parametrize("fmt", ["posix", "ustar", "gnu"])
def test_archive_rebuilt_by_tar_and_zstd(written: Path, tmp_path: Path, fmt: str) -> None:
    extracted = tmp_path / "x"
    extracted.mkdir()
    run(f"tar --zstd -xf {written} -C {extracted}")
    names = [n for n, _ in members_of(written) if n != "signature.json"]
    rebuilt = tmp_path / "rebuilt.zst"
    run(f"tar --format={fmt} -cf - {' '.join(names)} | zstd -q --check -o {rebuilt}", extracted)

    original = open_snapshot(written)
    snap = open_snapshot(rebuilt)
    assert not snap.signed
    assert snap.manifest == original.manifest
    assert snap.call() == original.call()
    for key, value in original.inputs().items():
        np.testing.assert_array_equal(snap.inputs()[key], value)


def test_archive_with_directory_entries_is_refused(written: Path, tmp_path: Path) -> None:
    # `tar -cf - manifest.json pieces ...` adds directory entries: not a snapshot.
    extracted = tmp_path / "x"
    extracted.mkdir()
    run(f"tar --zstd -xf {written} -C {extracted}")
    rebuilt = tmp_path / "dirs.zst"
    run(f"tar -cf - manifest.json pieces | zstd -q --check -o {rebuilt}", extracted)
    with pytest.raises(SnapshotFormatError, match="not a regular file"):
        open_snapshot(rebuilt)


def test_tar_stream_is_whole_records_after_an_incompressible_member(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    noise = np.random.default_rng(2).bytes(5 * 2**20 + 1000)  # not a multiple of 512
    builder.add(np.frombuffer(noise, dtype=np.uint8), label="noise")
    path = builder.write(tmp_path / "noise.tar.zst")
    size = len(run(f"zstd -dc {path}"))
    assert size % 10240 == 0, f"the tar stream is {size} bytes"
