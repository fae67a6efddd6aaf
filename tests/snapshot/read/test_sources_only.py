"""``open_snapshot(head_only=True, sources_only=True)``: what a page needs, and only that."""

from __future__ import annotations

from pathlib import Path

import pytest

import snapshot


def test_sources_only_keeps_the_sources_and_no_piece(small_snapshot: Path) -> None:
    full = snapshot.open_snapshot(small_snapshot, head_only=True)
    lean = snapshot.open_snapshot(small_snapshot, head_only=True, sources_only=True)
    sources = {e.member for e in (lean.model.sources or {}).values() if e.member is not None}
    assert sources, "the sample has captured sources"
    assert set(lean.members) == sources
    assert set(full.members) > sources  # the pickles, which the page never reads
    assert lean.model == full.model
    name = str(small_snapshot)
    assert snapshot.render_html(lean, name=name) == snapshot.render_html(full, name=name)


def test_sources_only_goes_with_head_only(small_snapshot: Path) -> None:
    with pytest.raises(ValueError, match="goes with head_only"):
        snapshot.open_snapshot(small_snapshot, sources_only=True)
