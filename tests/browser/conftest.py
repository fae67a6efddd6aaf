"""A real headless browser for the pages: Debian's chromium, driven by playwright.

The browser is launched once per test module.  A missing browser fails the tests
(``make browser`` installs it; ``make test`` runs that first): a page that was
never rendered is not a page that works.  Each page a test opens is kept as a
screenshot under ``tests/artifacts/`` (not committed), its path printed, for a
person to look at; every console message, request and dialog of the page is
recorded, so that a test can assert that a page ran nothing and loaded nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SAVED: list[Path] = []
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    found = (
        os.environ.get("REPLAY_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not os.path.isfile(found):
        pytest.fail(
            f"no chromium at {found}: the browser tests need Debian's chromium "
            "(`make browser` installs it: apt-get install chromium)"
        )
    return found


# Per module, not per session: playwright's sync API keeps an event loop running
# on the main thread while it is started, and every gen_cluster test run after
# it in the same session fails ("Cannot run the event loop while another loop
# is running").
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Opened:
    """A page and what it did: console messages, requests, dialogs."""

    page: Page
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        print(f"screenshot: {path}")
        SAVED.append(path)
        return path


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Any]:
    """``open_page(url, *, javascript=True, width=1100)``: a new context per page, watched."""
    contexts = []

    def opener(url: str, *, javascript: bool = True, width: int = 1100) -> Opened:
        context = browser.new_context(
            java_script_enabled=javascript, viewport={"width": width, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        page.on("console", lambda message: opened.console.append(message.text))
        page.on("request", lambda request: opened.requests.append(request.url))

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        page.wait_for_load_state("load")
        return opened

    yield opener
    for context in contexts:
        context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The screenshots this run saved, for a person to look at."""
    if SAVED:
        terminalreporter.write_sep("-", "screenshots of the pages (tests/browser)")
        for path in dict.fromkeys(SAVED):
            terminalreporter.write_line(str(path))
