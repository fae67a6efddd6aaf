"""Inspection reads the head of a snapshot only: manifest, pickles, sources.

Writers put the out-of-band buffers (the data) last, so ``open_snapshot(...,
head_only=True)`` stops before them and its cost does not grow with the data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import snapshot

HERE = Path(__file__).resolve().parents[1]  # tests/snapshot: crafting.py, samples.py


def recip(x: np.ndarray) -> float:
    return 1 / 0


def _written(tmp_path: Path, *, key: bytes | None = None) -> Path:
    data = np.random.default_rng(0).standard_normal(1_000_000)  # 8 MB, stored raw
    builder = snapshot.SnapshotBuilder()
    try:
        recip(data)
    except ZeroDivisionError as exc:
        builder.capture_exception(exc, skip_frames=1)  # not this frame: it holds the builder
    builder.set_call(recip, [data])
    return builder.write(tmp_path / "s.tar.zst", key=key)


def test_buffers_are_the_last_members(tmp_path: Path) -> None:
    listing = subprocess.run(
        f"zstd -dc {_written(tmp_path)} | tar -t",
        shell=True,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    assert listing[0] == "manifest.json"
    kinds = [name.split("/")[0] for name in listing[1:]]
    assert kinds == sorted(kinds, key=["pieces", "sources", "buffers"].index)
    assert kinds[-1] == "buffers" and "sources" in kinds


def test_head_only_reads_pickles_and_sources_but_not_the_data(tmp_path: Path) -> None:
    path = _written(tmp_path)
    damaged = bytearray(path.read_bytes())
    middle = len(damaged) // 2  # inside the 8 MB buffer's frame
    damaged[middle : middle + 64] = bytes(64)
    path.write_bytes(damaged)

    head = snapshot.open_snapshot(path, head_only=True)
    assert head.head_only
    assert {"numpy", "test_head_only"} <= {m for ms in head.imports().values() for m in ms}
    frame = head.manifest["frames"][-1]
    assert "return 1 / 0" in (head.source(frame["filename"]) or "")
    with pytest.raises(snapshot.SnapshotFormatError, match="head only"):
        head.call()
    with pytest.raises(snapshot.SnapshotFormatError):
        snapshot.open_snapshot(path)  # the whole read still sees the damage


def test_head_only_cannot_verify_a_signature(tmp_path: Path) -> None:
    path = _written(tmp_path, key=b"k")
    with pytest.raises(ValueError, match="signature covers the whole file"):
        snapshot.open_snapshot(path, key=b"k", head_only=True)


def test_replay_info_does_not_read_the_data(tmp_path: Path) -> None:
    """`info` on a snapshot whose data is damaged still describes it; a replay refuses it."""
    path = _written(tmp_path)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(damaged)
    info = subprocess.run(
        [sys.executable, "-m", "replay", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert info.returncode == 0, info.stderr
    assert "ZeroDivisionError" in info.stdout
    replayed = subprocess.run(
        [sys.executable, "-m", "replay", "--no-debug", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 3
    assert replayed.stderr.startswith("Error: ")


INSPECT = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[2])
    import crafting
    import snapshot

    path = crafting.bomb(__import__("pathlib").Path(sys.argv[1]), int(sys.argv[3]))
    size = path.stat().st_size
    snapshot.read_manifest(path)  # warm up: imports, first allocations
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    cpu = time.process_time()
    opened = snapshot.open_snapshot(path, head_only=True)
    scan = opened.imports()
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "file": size, "growth": after - before, "cpu": cpu,
        "partial": opened.head.partial, "decompressed": opened.head.decompressed,
        "incomplete": scan.incomplete, "modules": dict(scan),
    }))
    """
)


def test_inspecting_a_small_file_that_expands_to_gigabytes_is_bounded(tmp_path: Path) -> None:
    """A 100 KiB file whose one piece holds 3 GiB of opcodes: a head-only open reads
    max_inspect_bytes of it, the scan walks max_scan_opcodes, and both say so."""
    declared = 3 * 2**30
    done = subprocess.run(
        [sys.executable, "-c", INSPECT, str(tmp_path / "bomb.zst"), str(HERE), str(declared)],
        capture_output=True,
        text=True,
        timeout=240,  # under pytest-timeout's 300 s (pyproject): this one can fire and say why
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    limits = snapshot.ReadLimits()
    assert result["file"] < 200 * 2**10
    assert result["partial"] == {"pieces/p0.pkl": declared}
    # Work bounded by counting: what was decompressed, what was kept.
    assert result["decompressed"] <= limits.max_inspect_bytes + 4096
    assert result["growth"] < limits.max_inspect_bytes + 48 * 2**20, result
    assert result["modules"] == {"p0": []}
    assert result["incomplete"]["p0"].startswith("scanned ")
    assert "ReadLimits.max_scan_opcodes" in result["incomplete"]["p0"]


def test_a_manifest_that_would_decode_to_gigabytes_is_refused_first(tmp_path: Path) -> None:
    from crafting import json_bomb

    path = json_bomb(tmp_path / "json.zst", 20_000_000)  # 60 MB of "[]," in ~10 KiB
    assert path.stat().st_size < 100 * 2**10
    for read in (snapshot.read_manifest, snapshot.open_snapshot, snapshot.read_model):
        with pytest.raises(snapshot.SnapshotLimitError, match="JSON values"):
            read(path)  # type: ignore[operator]


def test_the_scan_budget_is_reported_not_silent(tmp_path: Path) -> None:
    path = _written(tmp_path)
    scan = snapshot.open_snapshot(path, head_only=True).imports(max_opcodes=10)
    assert scan.incomplete, "a budget of 10 opcodes cannot cover the pickles"
    assert all("the rest may import more modules" in why for why in scan.incomplete.values())
    full = snapshot.open_snapshot(path, head_only=True).imports()
    assert not full.incomplete and not full.invalid
    assert {"numpy", "test_head_only"} <= {m for ms in full.values() for m in ms}
