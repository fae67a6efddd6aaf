"""How a piece is pickled: which sequences of strings go without pickle's memo."""

from __future__ import annotations

from pathlib import Path

from snapshot import SnapshotBuilder, open_snapshot
from snapshot._write.pickler import FLAT, PLAIN, plan


def test_distinct_strings_go_without_the_memo() -> None:
    words = [f"w-{i}" for i in range(5000)]
    assert plan(words) == FLAT
    assert plan(tuple(words)) == FLAT


def test_shared_strings_and_dict_keys_keep_it() -> None:
    shared = [f"w-{i}" for i in range(10)] * 500  # the same ten objects over and over
    assert plan(shared) == PLAIN
    assert plan({f"k-{i}": i for i in range(5000)}) == PLAIN
    assert plan(["a", "b"]) == PLAIN  # too few to judge


def test_both_kinds_load_back(tmp_path: Path) -> None:
    words = [f"w-{i}" for i in range(5000)]
    shared = [f"s-{i}" for i in range(10)] * 500
    builder = SnapshotBuilder()
    builder.set_call(len, [words, shared])
    snap = open_snapshot(builder.write(tmp_path / "s.tar.zst"))
    _, (got_words, got_shared), _ = snap.call()
    assert got_words == words and got_shared == shared
    assert got_shared[0] is got_shared[10]  # the memo kept the sharing
