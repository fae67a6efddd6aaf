"""A Replay's rich display (IPython's pretty printer, Jupyter's HTML): what info shows, escaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import IPython.lib.pretty

import replay
from snapshot import SnapshotBuilder

HOSTILE = "<script>alert(1)</script> & \x1b[31mred\u202egnp.exe\x07"


def _raised() -> ValueError:
    def fail(x: object) -> None:
        raise ValueError(HOSTILE)

    try:
        fail(0)
    except ValueError as exc:
        return exc
    raise AssertionError("fail() returned")


def _hostile(path: Path) -> Path:
    # Raised in a frame without the builder among its locals: `info` scans 2,000
    # opcodes by default, fewer than a pickled SnapshotBuilder takes, and this test
    # compares info's text with the display of a whole read.
    builder = SnapshotBuilder()
    builder.capture_exception(_raised())
    builder.manifest["task"] = {"key": HOSTILE}
    builder.set_call(sorted, [[3, 1, 2]], {HOSTILE: 1})
    builder.add_inputs({HOSTILE: list(range(1000))})
    return builder.write(path)


def test_text_is_what_info_prints(tmp_path: Path) -> None:
    path = _hostile(tmp_path / "hostile.tar.zst")
    text = IPython.lib.pretty.pretty(replay.load(path))
    info = subprocess.run(
        [sys.executable, "-m", "replay", "info", str(path)], capture_output=True, text=True
    )
    assert text == info.stdout.rstrip("\n")
    for shown in ("Call (origin", "Inputs:", "Capture:", "ValueError", "list", "sorted"):
        assert shown in text
    assert not any(c in text for c in "\x1b\u202e\x07")


def test_html_escapes_every_string(tmp_path: Path) -> None:
    page = replay.load(_hostile(tmp_path / "hostile.tar.zst"))._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not any(c in page for c in "\x1b\u202e\x07")
    # The snapshot's page (snapshot.render_html), its frames folded.
    assert "ValueError" in page and "Inputs (results of other tasks)" in page
    assert "What was captured" in page and "Frames, innermost first" in page
    assert '<details class="frame"><summary>' in page and '<details class="frame" open' not in page
    # Only the fragment's own tags: every < from the file is escaped.
    tags = {part.split(">")[0].split(" ")[0] for part in page.split("<")[1:]}
    page_tags = {"style", "section", "span", "h1", "h2", "h3", "p", "ul", "li"}
    assert tags <= {*page_tags, *(f"/{t}" for t in page_tags)} | {
        "div",
        "/div",
        "b",
        "/b",
        "table",
        "/table",
        "tr",
        "/tr",
        "th",
        "/th",
        "td",
        "/td",
        "code",
        "/code",
        "details",
        "/details",
        "summary",
        "/summary",
        "pre",
        "/pre",
    }


def test_the_notebook_display_has_one_header_the_pages_own(tmp_path: Path) -> None:
    """No table of task, error and where above the page, which says them itself."""
    import re

    page = replay.load(_hostile(tmp_path / "hostile.tar.zst"))._repr_html_()
    assert page.count("<h1") == 1
    before = re.sub(r"<style>.*?</style>", "", page[: page.index("<h1")], flags=re.S)
    assert re.sub(r"<[^>]*>", "", before).strip() == ""
    assert "<table" not in before
