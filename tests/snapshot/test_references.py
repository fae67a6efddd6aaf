"""Format 1.1: each object stored once, referred to from every other holder, loaded once.

Real builders, real files, real loads: ``x is y`` after loading wherever it held
at capture, large objects met inside a piece become pieces of their own, and a
``__reduce__`` runs once however many places hold its object.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from snapshot import Placeholder, SnapshotBuilder, open_snapshot, read_manifest


class Counting:
    """Counts its reductions; reduces to a large payload (a stand-in for 2 GiB)."""

    calls = 0

    def __init__(self, size: int) -> None:
        self.size = size

    def __reduce__(self) -> tuple[Any, ...]:
        Counting.calls += 1
        return (bytes, (b"r" * self.size,))


class Failing:
    calls = 0

    def __reduce__(self) -> tuple[Any, ...]:
        Failing.calls += 1
        raise ValueError("cannot reduce this")


def _outer(shared: object, other: object) -> None:
    _inner(shared, [other])


def _inner(shared: object, wrapped: list[object]) -> None:
    raise RuntimeError("failed with the shared object in two frames")


def _capture(builder: SnapshotBuilder, shared: object, other: object = None) -> None:
    try:
        _outer(shared, other)
    except RuntimeError as exc:
        builder.capture_exception(exc, get_locals=_test_frames_only)


def _test_frames_only(frame: Any) -> dict[str, Any]:
    return dict(frame.f_locals) if frame.f_code.co_name in ("_outer", "_inner") else {}


def _frames(snap: Any) -> list[dict[str, Any]]:
    return [snap.frame_locals(i) for i in range(len(snap.manifest["frames"]))]


def test_an_object_held_by_two_frames_and_the_call_loads_as_one(tmp_path: Path) -> None:
    shared = {"rows": [{"a": i} for i in range(10)], "name": "shared"}
    builder = SnapshotBuilder()
    _capture(builder, shared)  # before the call: the builder pickles frames last anyway
    builder.set_call(_outer, [shared, None])
    builder.add_inputs({"dep": shared})
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    _, args, _ = snap.call()
    frames = [f for f in _frames(snap) if "shared" in f]
    assert len(frames) == 2
    assert args[0] is frames[0]["shared"] is frames[1]["shared"] is snap.inputs()["dep"]
    assert args[0] == shared
    manifest = snap.manifest
    pid = manifest["call"]["args"][0]
    assert {f["locals"]["shared"] for f in manifest["frames"] if "shared" in f["locals"]} == {pid}


def test_objects_inside_pieces_refer_to_stored_pieces(tmp_path: Path) -> None:
    data = list(range(100))
    builder = SnapshotBuilder()
    first = builder.add(data, label="data")
    holder = builder.add({"inside": data, "again": [data]}, label="holder")
    path = builder.write(tmp_path / "s.tar.zst")
    manifest = read_manifest(path)
    assert manifest["format_version"] == "1.1"
    assert manifest["pieces"][holder]["refs"] == [first]
    assert manifest["pieces"][first]["refs"] == []
    snap = open_snapshot(path)
    loaded = snap.load(holder)
    assert loaded["inside"] is loaded["again"][0] is snap.load(first)


def test_large_objects_inside_a_piece_become_pieces_of_their_own(tmp_path: Path) -> None:
    big_list = list(range(5000))
    big_text = "t" * 100_000
    builder = SnapshotBuilder()
    one = builder.add({"list": big_list, "text": big_text, "n": 1}, label="one")
    two = builder.add(("x", big_list, big_text), label="two")
    alone = builder.add(big_list, label="alone")
    path = builder.write(tmp_path / "s.tar.zst")
    pieces = read_manifest(path)["pieces"]
    hoisted = pieces[one]["refs"]
    assert len(hoisted) == 2 and pieces[two]["refs"] == hoisted
    assert alone in hoisted  # the later top-level holder is the hoisted piece
    assert {pieces[p]["label"] for p in hoisted} == {"one > list", "one > str"}
    assert pieces[one]["size"] < 1000  # the large parts are not copied into it
    snap = open_snapshot(path)
    a, b = snap.load(one), snap.load(two)
    assert a["list"] is b[1] is snap.load(alone) and a["list"] == big_list
    assert a["text"] is b[2] and a["text"] == big_text


@pytest.mark.parametrize(
    "make",
    [
        lambda: bytes(range(256)) * 1024,
        lambda: bytearray(b"w" * 300_000),
        lambda: memoryview(bytes(300_000)),
        lambda: memoryview(bytearray(8 * 40_000)).cast("d", (200, 200)),
        lambda: memoryview(np.arange(40_000, dtype=np.int64))[::2],  # not contiguous
    ],
    ids=["bytes", "bytearray", "memoryview", "memoryview-2d", "memoryview-strided"],
)
def test_large_binary_objects_go_out_of_band_and_keep_their_type(tmp_path: Path, make: Any) -> None:
    obj = make()
    builder = SnapshotBuilder()
    top = builder.add(obj, label="top")
    nested = builder.add({"v": obj, "w": [obj]}, label="nested")
    path = builder.write(tmp_path / "s.tar.zst")
    manifest = read_manifest(path)
    record = manifest["pieces"][top]
    nbytes = memoryview(obj).nbytes
    if memoryview(obj).contiguous:
        assert [manifest["buffers"][b]["size"] for b in record["buffers"]] == [nbytes]
        assert record["size"] - nbytes < 500
    assert manifest["pieces"][nested]["refs"] == [top]
    snap = open_snapshot(path)
    loaded = snap.load(top)
    assert type(loaded) is type(obj)
    assert snap.load(nested)["v"] is loaded
    if isinstance(obj, memoryview):
        assert (loaded.format, loaded.shape, loaded.readonly) == (
            obj.format,
            obj.shape,
            obj.readonly,
        )
        assert loaded.tobytes() == obj.tobytes()
    else:
        assert loaded == obj


def test_a_reduce_that_returns_a_large_object_runs_once(tmp_path: Path) -> None:
    Counting.calls = 0
    heavy = Counting(8 * 2**20)
    builder = SnapshotBuilder()
    _capture(builder, heavy, {"again": heavy})
    builder.set_call(_outer, [heavy, {"again": heavy}])
    builder.add_inputs({"a": heavy, "b": [heavy]})
    builder.add_run_spec((_outer, heavy))
    path = builder.write(tmp_path / "s.tar.zst")
    assert Counting.calls == 1
    assert path.stat().st_size < 2 * 2**20
    snap = open_snapshot(path)
    _, args, _ = snap.call()
    assert args[0] is args[1]["again"] is snap.inputs()["b"][0]
    assert args[0] == b"r" * 8 * 2**20


def test_a_failed_piece_is_referred_to_as_its_placeholder_never_retried(tmp_path: Path) -> None:
    Failing.calls = 0
    bad = Failing()
    builder = SnapshotBuilder()
    first = builder.add(bad, label="bad")
    holder = builder.add({"bad": bad, "fine": 1}, label="holder")
    again = builder.add(bad, label="bad again")
    path = builder.write(tmp_path / "s.tar.zst")
    assert Failing.calls == 1
    assert again == first
    pieces = read_manifest(path)["pieces"]
    assert pieces[first]["status"] == "placeholder"
    assert "ValueError: cannot reduce this" in pieces[first]["reason"]
    assert pieces[holder]["status"] == "stored" and pieces[holder]["refs"] == [first]
    loaded = open_snapshot(path).load(holder)
    assert loaded["fine"] == 1
    assert isinstance(loaded["bad"], Placeholder) and loaded["bad"].status == "placeholder"
    assert loaded["bad"].type == f"{__name__}.Failing"


def test_cycles_between_and_within_pieces_load(tmp_path: Path) -> None:
    ring: list[Any] = list(range(2000))
    ring.append(ring)
    parent: dict[str, Any] = {"ring": ring}
    ring.append(parent)
    builder = SnapshotBuilder()
    pid = builder.add(parent, label="parent")
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    loaded = snap.load(pid)
    assert loaded["ring"][2000] is loaded["ring"]
    assert loaded["ring"][2001]["ring"] is loaded["ring"]


def test_a_1_0_reader_refuses_a_reference_with_an_unpickling_error(tmp_path: Path) -> None:
    data = list(range(10))
    builder = SnapshotBuilder()
    builder.add(data, label="data")
    holder = builder.add([data, data, _outer], label="holder")
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    with pytest.raises(pickle.UnpicklingError, match="persistent"):
        pickle.loads(snap.piece_bytes(holder))  # what a 1.0 reader does


def test_containers_held_many_times_in_a_list_are_stored_once(tmp_path: Path) -> None:
    row = {"a": 1, "b": "x"}
    rows = [row] * 100_000
    builder = SnapshotBuilder()
    pid = builder.add(rows, label="rows")
    path = builder.write(tmp_path / "s.tar.zst")
    assert read_manifest(path)["pieces"][pid]["size"] < 300_000
    loaded = open_snapshot(path).load(pid)
    assert loaded[0] is loaded[-1] and loaded[0] == row


def test_lists_of_distinct_small_dicts_round_trip(tmp_path: Path) -> None:
    rows = [{"a": i, "b": str(i), "c": [i, i + 1.5]} for i in range(50_000)]
    rows.append(rows)  # a cycle the bounded look does not see
    builder = SnapshotBuilder()
    pid = builder.add(rows, label="rows")
    loaded = open_snapshot(builder.write(tmp_path / "s.tar.zst")).load(pid)
    assert loaded[:-1] == rows[:-1] and loaded[-1] is loaded
