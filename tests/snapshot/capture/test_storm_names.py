"""File names a writer picks (``StormGuard.new_path``) and finds again (``written_with``)."""

from __future__ import annotations

import re
from pathlib import Path

import snapshot


def _guard(directory: Path) -> snapshot.StormGuard:
    return snapshot.StormGuard(directory, 3, 2**30)


def test_a_token_names_the_file_and_finds_it_again(tmp_path: Path) -> None:
    guard = _guard(tmp_path)
    token = "0123456789abcdef"
    path = guard.new_path(("x", 1), "host", token)
    assert path.name.endswith(f"-{token}{snapshot.SNAPSHOT_SUFFIX}")
    assert guard.written_with(token) is None  # not written yet
    # A writer's unfinished file is not taken for a written one.
    (tmp_path / f".{path.name}.123.partial").write_bytes(b"half")
    assert guard.written_with(token) is None
    path.write_bytes(b"whole")
    assert guard.written_with(token) == path
    assert guard.written_with("fedcba9876543210") is None


def test_a_token_of_another_shape_is_neither_used_nor_looked_for(tmp_path: Path) -> None:
    guard = _guard(tmp_path)
    (tmp_path / f"a-{'*'}{snapshot.SNAPSHOT_SUFFIX}").write_bytes(b"x")
    for bad in ("../../etc/x", "*", "0123456789ABCDEF", "0123456789abcde", "", "a/b" * 8):
        path = guard.new_path("k", "host", bad)
        last = path.name.removesuffix(snapshot.SNAPSHOT_SUFFIX).rsplit("-", 1)[1]
        assert path.parent == tmp_path and re.fullmatch("[0-9a-f]{8}", last), path
        assert guard.written_with(bad) is None
