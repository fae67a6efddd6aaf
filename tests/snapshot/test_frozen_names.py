"""The names stored pickles call are frozen: declared in one place, the only ones emitted.

``snapshot._format.FROZEN_NAMES`` lists every name of the ``snapshot`` package
that a stored pickle may name (spec 5.3).  A name the writer starts to emit
without being listed, or a listed one that moved, would leave files that no
later reader can load.
"""

from __future__ import annotations

import importlib
import operator
import threading
from pathlib import Path

import numpy as np
import pytest
from generate_golden import KEY
from pickled import pickled_globals

import snapshot
from snapshot._format import FROZEN_NAMES

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_ROOT = Path(__file__).resolve().parent / "golden"


class _Unpicklable:
    def __reduce__(self) -> object:
        raise TypeError("not today")


def _everything(path: Path) -> Path:
    """A snapshot that takes every path of the writer that may name its own package."""
    big = bytes(range(256)) * 300  # over 64 KiB: out-of-band
    strided = memoryview(bytearray(big))[::2]  # not contiguous: copied in-band
    nested = {
        "lock": threading.Lock(),
        "held": snapshot.Placeholder("t", "r", "why", "omitted"),
        "bytes": big,
        "bytearray": bytearray(big),
        "view": memoryview(big).cast("B", (len(big),)),
        "small view": memoryview(b"abc"),
        "strided": strided,
        "array": np.arange(10_000.0),
        "bad": _Unpicklable(),
    }
    builder = snapshot.SnapshotBuilder()

    def job(x: object, password: str) -> None:
        local = [x, threading.Event()]
        raise ValueError(local)

    try:
        job(nested, "hunter2")
    except ValueError as exc:
        builder.capture_exception(exc, skip_frames=1)  # not this frame: its locals are ours
    builder.set_call(job, [nested, threading.RLock()], {"password": "hunter2"})
    builder.add_inputs({"x": nested, "lock": threading.Lock()})
    builder.add_run_spec((operator.truediv, nested, 0))
    return builder.write(path)


def _snapshot_names(snap: snapshot.Snapshot) -> set[str]:
    names: set[str] = set()
    for pid, record in snap.manifest["pieces"].items():
        if record["status"] == "stored":
            names |= pickled_globals(snap.piece_bytes(pid))
    return {n for n in names if n.split(".")[0] == "snapshot"}


def test_the_writer_emits_exactly_the_frozen_names(tmp_path: Path) -> None:
    snap = snapshot.open_snapshot(_everything(tmp_path / "all.zst"))
    assert _snapshot_names(snap) == set(FROZEN_NAMES)


@pytest.mark.parametrize("path", sorted(GOLDEN_ROOT.glob("*/*.zst")), ids=lambda p: p.name)
def test_golden_files_name_only_frozen_names(path: Path) -> None:
    snap = snapshot.open_snapshot(path, key=KEY, allow_unsigned=True)
    assert _snapshot_names(snap) <= set(FROZEN_NAMES)


@pytest.mark.parametrize("name", FROZEN_NAMES)
def test_each_frozen_name_still_imports_under_its_name(name: str) -> None:
    module, _, attribute = name.rpartition(".")
    found = getattr(importlib.import_module(module), attribute)
    assert f"{found.__module__}.{found.__qualname__}" == name  # pickle by reference finds it


@pytest.mark.parametrize("name", FROZEN_NAMES)
def test_the_spec_names_each_frozen_name(name: str) -> None:
    assert f"`{name}" in (ROOT / "specs" / "snapshot-format.md").read_text()
