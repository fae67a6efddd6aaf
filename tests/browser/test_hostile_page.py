"""A crafted snapshot's page is inert: no script runs, nothing is requested, nothing is hidden.

Checked from the browser's own records (its console, every request it made,
every dialog) with scripts enabled, so that anything that could run, would.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hostile

import snapshot

#: The tags the renderer writes; any other tag on the page came from the file.
OUR_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "main", "section", "div", "span"),
    *("h1", "h2", "h3", "p", "b", "code", "pre", "ul", "li", "a"),
    *("table", "tr", "th", "td", "details", "summary"),
}


def test_the_hostile_page_runs_nothing_and_loads_nothing(tmp_path: Path, open_page: Any) -> None:
    path = hostile.write(tmp_path / "hostile.tar.zst")
    page_file = tmp_path / "hostile.html"
    page_file.write_text(
        snapshot.render_html(path, download_href="snapshots/download?name=hostile.tar.zst"),
        encoding="utf-8",
    )
    opened = open_page(page_file.as_uri())
    page = opened.page
    page.wait_for_timeout(300)  # time for a stray onerror or @import to fire
    assert opened.requests == [page_file.as_uri()], opened.requests
    assert opened.dialogs == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => document.scripts.length") == 0
    assert page.evaluate("() => document.images.length") == 0
    # The only link is ours; no element carries an event handler.
    hrefs = page.evaluate("() => [...document.links].map(a => a.getAttribute('href'))")
    assert hrefs == ["snapshots/download?name=hostile.tar.zst"]
    handlers = page.evaluate(
        "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
        ".filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))"
    )
    assert handlers == []
    # The page is shown, not hidden by a <style> from the file.
    assert page.locator("main.drp").is_visible()
    assert page.locator("details.frame").first.is_visible()
    # The strings are shown as text: the markup is visible, the invisible made visible.
    body = page.locator("main").inner_text()
    assert "<script>window.__pwned=1;alert(1)</script>" in body
    assert "javascript:alert(1)" in body
    assert "\\u202e" in body and "\\x1b" in body and "\\x00" in body
    assert not any(c in body for c in "\u202e\u2066\x1b\x07\x00\u200b")
    assert opened.console == []
    opened.screenshot("snapshot-page-hostile")


def test_the_hostile_page_holds_only_our_own_markup(tmp_path: Path) -> None:
    page = snapshot.render_html(hostile.write(tmp_path / "hostile.tar.zst"))
    tags = {tag.lower() for tag in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)", page)}
    assert tags <= OUR_TAGS, tags - OUR_TAGS
    assert page.count("<style>") == 1 and page.count("<a ") == 0
    assert "javascript:" not in re.sub(r">[^<]*<", "><", page)  # only in text, never a tag
    assert not any(c in page for c in "\u202e\u2066\u2069\x1b\x07\x00\u200b")
