"""A fuzz target for the page: ``snapshot.render_html`` of mutated manifests.

Manifests of a genuine snapshot with fields replaced, added or removed, in type
and in value (``strategies.mutated_manifests``: surrogates, controls, huge
integers, deep nesting), written back around the genuine pickles.  The only
outcomes allowed: a page holding only the renderer's own tags and no
character a reader cannot see, or a ``SnapshotError`` subclass; never another
exception.
"""

from __future__ import annotations

import copy
import re
import unicodedata

import hypothesis
import pytest
from crafting import members_of
from hypothesis import strategies as st
from jobs import compile_job, manifest_of, write_snapshot, write_with_manifest
from strategies import mutated_manifests

import snapshot

OUR_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "main", "section", "div", "span"),
    *("h1", "h2", "h3", "p", "b", "code", "pre", "ul", "li", "a"),
    *("table", "tr", "th", "td", "details", "summary"),
}
_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)")


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    """A snapshot with a call, inputs with a tuple key, two frames with locals, a source."""
    job = compile_job()
    path = tmp_path_factory.mktemp("genuine") / "genuine.tar.zst"
    write_snapshot(path, job["outer"], ([1, 2, 3],), inputs={("dec", 1): 6, "raw": b"\x1b"})
    return members_of(path)


@hypothesis.given(data=st.data())
def test_the_page_of_a_mutated_manifest(
    tmp_path_factory: pytest.TempPathFactory, genuine: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    manifest = data.draw(mutated_manifests(copy.deepcopy(manifest_of(genuine))))
    directory = tmp_path_factory.mktemp("page")
    try:
        path = write_with_manifest(directory / "mutated.tar.zst", genuine, manifest)
    except ValueError:  # json.dumps of an integer over sys.get_int_max_str_digits()
        hypothesis.reject()
    try:
        page = snapshot.render_html(path, name="mutated.tar.zst")
    except snapshot.SnapshotError:
        return
    assert {t.lower() for t in _TAG.findall(page)} <= OUR_TAGS
    # Unicode spaces (Zs) show as spaces; anything else unprintable is shown as an escape.
    unseen = [
        c for c in page if not (c.isprintable() or c in "\n\t" or unicodedata.category(c) == "Zs")
    ]
    assert unseen == [], unseen[:5]
    page.encode("utf-8")  # no lone surrogate
