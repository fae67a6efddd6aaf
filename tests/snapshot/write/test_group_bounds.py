"""An exception group's members: the writer writes exactly what a reader keeps.

The bounds (entries, levels) are one pair of constants, the model's: a group
wider and deeper than them is written cut at them, and read back without a
problem and without a member dropped by the reader."""

from __future__ import annotations

from pathlib import Path

import snapshot
from snapshot._model.error import MAX_DEPTH, MAX_MEMBERS


def _nested(depth: int, width: int) -> BaseExceptionGroup[Exception]:
    group: ExceptionGroup[Exception] = ExceptionGroup("innermost", [ValueError("leaf")])
    for level in range(depth):
        group = ExceptionGroup(f"level {level}", [group, *(KeyError(i) for i in range(width))])
    return group


def test_a_group_past_the_bounds_is_written_as_the_reader_keeps_it(tmp_path: Path) -> None:
    builder = snapshot.SnapshotBuilder()
    try:
        raise _nested(MAX_DEPTH + 3, MAX_MEMBERS)
    except ExceptionGroup as exc:
        builder.capture_exception(exc)
    path = tmp_path / "g.tar.zst"
    builder.write(path)
    model = snapshot.read_model(path)
    assert model.problems == ()
    error = model.error
    assert error is not None
    assert len(error.members) == MAX_MEMBERS
    assert max(m.depth for m in error.members) == MAX_DEPTH
    assert error.members_omitted
