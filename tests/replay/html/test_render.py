"""``snapshot.render_html``: the page of a snapshot, built without unpickling, every string inert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import snapshot


def _arrow_line(page: str) -> str:
    """The text of the source line the page marks as the one that ran."""
    found = re.search(r'<tr class=ran><td class="n">→\d+</td><td>(.*?)</td></tr>', page)
    assert found, "no arrow line on the page"
    return found.group(1)


def test_the_page_shows_the_verified_line_and_the_locals(recip_snapshot: Path) -> None:
    page = snapshot.render_html(recip_snapshot, name="recip.zst")
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src &#x27;none&#x27;" not in page
    assert "default-src 'none'" in page
    assert _arrow_line(page).strip() == "return scale / x"
    assert "code matches the code that ran" in page
    assert "<th><code>x</code></th><td>builtins.int</td>" in page
    assert "<code>python -m replay recip.zst</code>" in page
    assert "<code>python -m replay check recip.zst</code>" in page
    assert "nothing in the file was unpickled" in page


def test_a_download_link_must_be_a_relative_url_of_ours(recip_snapshot: Path) -> None:
    page = snapshot.render_html(recip_snapshot, download_href="snapshots/download?name=a.zst")
    assert 'href="snapshots/download?name=a.zst"' in page
    for bad in (
        "javascript:alert(1)",
        "//evil.example/x",
        "https://evil.example/x",
        'x" onclick="alert(1)',
        "a\\b",
        "",
    ):
        with pytest.raises(ValueError, match="download_href"):
            snapshot.render_html(recip_snapshot, download_href=bad)


def test_a_damaged_file_raises_a_snapshot_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.zst"
    bad.write_bytes(b"not a snapshot at all")
    with pytest.raises(snapshot.SnapshotError):
        snapshot.render_html(bad)
    with pytest.raises(snapshot.SnapshotNotFoundError):
        snapshot.render_html(tmp_path / "missing.tar.zst")


def test_the_user_guide_shows_the_page() -> None:
    """docs/images/snapshot-page.png is the seed's page as tests/browser saves it."""
    docs = Path(__file__).resolve().parents[3] / "docs"
    guide = (docs / "user-guide.md").read_text(encoding="utf-8")
    assert "](images/snapshot-page.png)" in guide
    assert (docs / "images" / "snapshot-page.png").read_bytes().startswith(b"\x89PNG")


def test_the_name_in_the_commands_is_quoted_for_the_shell_and_escaped(
    recip_snapshot: Path,
) -> None:
    page = snapshot.render_html(recip_snapshot, name="<script>x</script>; rm -rf ~\u202e.zst")
    assert "<script>x" not in page
    expected = "python -m replay &#x27;&lt;script&gt;x&lt;/script&gt;; rm -rf ~"
    assert expected in page and '<span class="ctl">\\u202e</span>.zst&#x27;' in page


def test_a_snapshot_asked_for_shows_what_the_task_returned() -> None:
    """An on-demand capture (spec 4.13) has no error: the page says how it was taken and
    shows the value the task returned, which a replay compares with."""
    golden = Path(__file__).parents[2] / "snapshot" / "golden" / "1.1" / "on_demand.zst"
    page = snapshot.render_html(golden)
    assert "<title>Captured on demand: the task finished</title>" in page
    section = page[page.index('<section id="on-demand">') :]
    section = section[: section.index("</section>")]
    assert "<code>cluster_hook.capture</code>; the task had finished" in section
    assert "<th><code>result</code></th><td>numpy.ndarray" in section
    assert "[19., 20., 21., 22., 23., 24.]" in section
