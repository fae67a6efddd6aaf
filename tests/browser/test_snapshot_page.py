"""The page of ``python -m replay html`` in a real browser: the seed's failure, from a real
cluster, with the arrow on ``return 1 / x`` and ``x = 0``; with scripts off; on a phone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The worker's snapshot and the client's copy of the seed's failure, written by the hook."""
    directory = tmp_path_factory.mktemp("seed")
    done = subprocess.run(
        [sys.executable, str(HERE / "seed_client_script.py"), str(directory)],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    worker, copy = done.stdout.split()
    return {"worker": Path(worker), "client": Path(copy)}


def _html(snapshot: Path, out: Path) -> str:
    """The page, written by the real command line."""
    done = subprocess.run(
        [sys.executable, "-m", "replay", "html", str(snapshot), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return out.as_uri()


def _only_the_page(opened: Any, url: str) -> None:
    assert opened.requests == [url], opened.requests
    assert opened.dialogs == []
    assert opened.console == []
    assert opened.page.evaluate("() => window.__pwned") is None


def test_the_seed_failure_shows_the_line_that_ran_and_x_equals_0(
    seed: dict[str, Path], tmp_path: Path, open_page: Any
) -> None:
    url = _html(seed["client"], tmp_path / "seed.html")
    opened = open_page(url)
    page = opened.page
    assert page.title() == "ZeroDivisionError: division by zero"
    frame = page.locator("details.frame").first  # innermost first: recip
    assert frame.get_attribute("open") is not None
    assert "recip" in frame.locator("summary").inner_text()
    arrow = frame.locator("table.src tr.ran")
    assert arrow.count() == 1
    assert arrow.locator("td").nth(1).inner_text().strip() == "return 1 / x"
    assert arrow.locator("td.n").inner_text().startswith("→")
    assert arrow.is_visible()
    local = frame.locator("table.vars tr", has=page.locator("th", has_text="x"))
    assert local.locator("td").nth(2).inner_text() == "0"
    assert local.is_visible()
    # The library frame (dask's Task.__call__) is folded to one line.
    library = page.locator("details.frame.lib").first
    assert library.get_attribute("open") is None
    assert not library.locator("h3").is_visible()
    assert page.locator("#commands").inner_text().count("python -m replay") == 4
    _only_the_page(opened, url)
    opened.screenshot("snapshot-page-seed")
    # The top of the page, as docs/images/snapshot-page.png shows it in the user guide.
    page.set_viewport_size({"width": 1000, "height": 760})
    opened.screenshot("snapshot-page", full_page=False)


def test_the_worker_copy_says_why_its_source_is_unknown(
    seed: dict[str, Path], tmp_path: Path, open_page: Any
) -> None:
    """The worker could not know a __main__ function's source: no line is shown, and why."""
    url = _html(seed["worker"], tmp_path / "worker.html")
    opened = open_page(url)
    frame = opened.page.locator("details.frame").first
    assert frame.locator("table.src").count() == 0
    unknown = frame.locator("p.unknown").inner_text()
    assert unknown.startswith("Source unknown: no source was captured for it")
    assert "distributed.client.preload" in unknown
    _only_the_page(opened, url)
    opened.screenshot("snapshot-page-worker-copy")


def test_with_scripts_disabled_the_frames_still_show(
    seed: dict[str, Path], tmp_path: Path, open_page: Any
) -> None:
    url = _html(seed["client"], tmp_path / "noscript.html")
    opened = open_page(url, javascript=False)
    page = opened.page
    assert page.locator("details.frame").first.locator("table.src tr.ran").is_visible()
    # A folded frame opens on a click, with no script.
    library = page.locator("details.frame.lib").first
    library.locator("summary").click()
    assert library.locator("h3").is_visible()
    opened.screenshot("snapshot-page-noscript")


def test_on_a_phone_width_and_in_print(
    seed: dict[str, Path], tmp_path: Path, open_page: Any
) -> None:
    url = _html(seed["client"], tmp_path / "phone.html")
    opened = open_page(url, width=375)
    page = opened.page
    # Nothing wider than the screen but the source and preformatted blocks, which scroll.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, width
    assert page.locator("table.src tr.ran").first.is_visible()
    opened.screenshot("snapshot-page-phone")
    page.emulate_media(media="print")
    # In print, folded sections are unfolded: the library frame's locals show.
    assert page.locator("details.frame.lib").first.locator("h3").is_visible()
    opened.screenshot("snapshot-page-print")
    pdf = tmp_path / "page.pdf"
    page.emulate_media(media="screen")
    page.pdf(path=str(pdf))
    assert pdf.stat().st_size > 0


def test_a_death_shows_its_cause_memory_against_the_limit_and_stacks(
    tmp_path: Path, open_page: Any
) -> None:
    import deaths

    url = _html(deaths.write(tmp_path / "death.tar.zst"), tmp_path / "death.html")
    opened = open_page(url)
    page = opened.page
    assert page.title() == "Worker died: out of memory"
    assert page.locator("h1").inner_text() == "Worker died: out of memory"
    death = page.locator("#death")
    assert "RSS when the nanny killed it" in death.inner_text()
    assert "97% of the limit" in death.inner_text()  # 290 MB of 300 MB
    assert death.locator(".bar span").first.is_visible()
    assert "line 7 in hog" in death.locator("pre").inner_text()
    assert "load-7" in death.inner_text()
    assert page.locator("#traceback").count() == 0  # its "traceback" is the stacks, shown once
    _only_the_page(opened, url)
    opened.screenshot("snapshot-page-death")
