"""A ``Replay`` in Jupyter (``_repr_html_``): the same page, folded, inside a notebook's output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import replay

sys.path.append(str(Path(__file__).resolve().parents[1] / "replay"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "snapshot"))

from jobs import compile_job, write_snapshot


def test_the_fragment_shows_the_frames_folded_and_opens_them_on_a_click(
    tmp_path: Path, open_page: Any
) -> None:
    job = compile_job()
    path = write_snapshot(tmp_path / "recip.tar.zst", job["recip"], (0,))
    fragment = replay.load(path)._repr_html_()
    # As a notebook shows an output: inside a page of its own, styles of its own.
    notebook = tmp_path / "notebook.html"
    notebook.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\"></head><body><div class='output'>"
        f"{fragment}</div></body></html>",
        encoding="utf-8",
    )
    opened = open_page(notebook.as_uri())
    page = opened.page
    frame = page.locator("details.frame").first
    assert frame.get_attribute("open") is None
    assert not frame.locator("table.src").is_visible()
    frame.locator("summary").click()
    assert frame.locator("table.src tr.ran td").nth(1).inner_text().strip() == "return scale / x"
    assert opened.requests == [notebook.as_uri()]
    assert opened.console == []
    opened.screenshot("jupyter-fragment")
