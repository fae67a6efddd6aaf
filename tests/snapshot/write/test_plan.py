"""How a piece is pickled: which containers go without pickle's memo, and what they share."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from snapshot import SnapshotBuilder, open_snapshot
from snapshot._write.plan import (
    FLAT,
    MAX_SHARED,
    MAX_SHARED_BYTES,
    PLAIN,
    plan,
    prelude,
    preset_memo,
)


def test_distinct_strings_go_without_the_memo() -> None:
    words = [f"w-{i}" for i in range(5000)]
    assert plan(words).how == FLAT
    assert plan(tuple(words)).how == FLAT


def test_shared_strings_and_dict_keys_keep_it() -> None:
    shared = [f"w-{i}" for i in range(10)] * 500  # the same ten objects over and over
    assert plan(shared).how == PLAIN
    assert plan({f"k-{i}": i for i in range(5000)}).how == PLAIN
    assert plan(["a", "b"]).how == PLAIN  # too few to judge


def test_both_kinds_load_back(tmp_path: Path) -> None:
    words = [f"w-{i}" for i in range(5000)]
    shared = [f"s-{i}" for i in range(10)] * 500
    builder = SnapshotBuilder()
    builder.set_call(len, [words, shared])
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    _, (got_words, got_shared), _ = snap.call()
    assert got_words == words and got_shared == shared
    assert got_shared[0] is got_shared[10]  # the memo kept the sharing


def _records(n: int) -> list[dict[str, object]]:
    return [{"id": i, "name": f"user-{i}", "score": i * 0.5} for i in range(n)]


def test_records_go_flat_with_their_keys_shared() -> None:
    got = plan(_records(5000))
    assert got.how == FLAT
    assert sorted(got.shared) == ["id", "name", "score"]  # not the distinct names
    mapping = {f"k-{i}": {"kind": "a", "n": i} for i in range(5000)}
    assert sorted(plan(mapping).shared) == ["a", "kind", "n"]
    # Records whose keys are distinct objects (made apart) share nothing.
    apart = [{"".join(["i", "d"]): i} for i in range(100)]
    assert plan(apart) == (FLAT, ())


def test_the_prelude_is_bounded() -> None:
    keys = [f"k{j}" for j in range(700)]  # neighbours share 16 keys: 624 shared in all
    overlapping = [{k: 0 for k in keys[16 * e : 16 * e + 32]} for e in range(40)]
    got = plan(overlapping)
    assert got.how == FLAT and len(got.shared) == MAX_SHARED
    big = [("x" * 40_000 + str(j)) for j in range(40)]  # 40 KB each: 26 fit in 1 MiB
    got = plan([{k: 0 for k in big[e : e + 2]} for e in range(39)])
    assert 0 < sum(len(s) for s in got.shared) <= MAX_SHARED_BYTES and len(got.shared) == 26


@pytest.mark.parametrize(
    "shared",
    [
        ("id", "name"),
        ("\udc80 lone surrogate", "é" * 300, "x" * 70_000),
        (b"raw", b"\x00" * 300),
        (),
    ],
)
def test_prelude_and_preset_memo_make_one_standard_pickle(shared: tuple[str | bytes, ...]) -> None:
    import io

    import cloudpickle

    records = [{key: i for key in shared} for i in range(50)]
    out = io.BytesIO()
    out.write(prelude(shared))
    pickler = cloudpickle.Pickler(out, protocol=5)
    pickler.memo = preset_memo(shared)
    pickler.fast = True
    pickler.dump(records)
    got = pickle.loads(out.getvalue())
    assert got == records
    if shared:
        assert next(iter(got[0])) is next(iter(got[1]))


def test_records_load_back_with_their_keys_shared(tmp_path: Path) -> None:
    records = _records(5000)
    by_key = {f"r-{i}": {"kind": "red" if i % 2 else "blue", "n": i} for i in range(3000)}
    builder = SnapshotBuilder()
    builder.set_call(len, [records, by_key])
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    _, (got, got_map), _ = snap.call()
    assert got == records and got_map == by_key
    first, last = (list(r) for r in (got[0], got[-1]))
    assert all(a is b for a, b in zip(first, last, strict=True))  # one "id", one "name"...
    assert got_map["r-1"]["kind"] is got_map["r-2999"]["kind"]  # "red", once


def test_a_cycle_met_flat_is_pickled_again_with_the_memo(tmp_path: Path) -> None:
    records = _records(200)
    records[150]["self"] = records  # beyond the sample: found only while pickling
    builder = SnapshotBuilder()
    builder.set_call(len, [records])
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    _, (got,), _ = snap.call()
    assert got[150]["self"] is got and got[0] == records[0]
