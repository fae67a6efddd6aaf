"""The Snapshots pages of a real ``dask scheduler --preload cluster_hook`` in a real browser.

Two ``dask worker --preload cluster_hook`` processes, on two loopback hosts
(127.0.0.1 and 127.0.0.2), each with a snapshot directory of its own; a
client script fails ``recip(0)`` on each.  The list shows both failures,
its link opens the page the worker renders (the arrow on ``return 1 / x``),
its download gives the file's bytes, a path traversal is refused, and once
the second worker is killed its row and its page say so.  Screenshots go to
``tests/artifacts/dashboard/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "end_to_end"))
from subprocess_cluster import free_port, stop, wait_for_workers  # noqa: E402

SEE = re.compile(r"dask-replay: see it at (?P<url>\S+)")
SHOTS = "dashboard"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("dashboard")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    port, dashboard = free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = []

    def start(name: str, args: list[str], **extra: str) -> None:
        log = open(tmp / f"{name}.log", "wb")
        logs.append(log)
        procs[name] = subprocess.Popen(
            [*dask, *args],
            env={**env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    directories = {host: tmp / f"snapshots-{host}" for host in ("127.0.0.1", "127.0.0.2")}
    try:
        start(
            "scheduler",
            [
                *("scheduler", "--host", "127.0.0.1", "--port", str(port)),
                *("--dashboard-address", f"127.0.0.1:{dashboard}", "--preload", "cluster_hook"),
            ],
        )
        for host, directory in directories.items():
            start(
                f"worker-{host}",
                [
                    *("worker", address, "--preload", "cluster_hook", "--no-nanny"),
                    *("--nthreads", "1", "--no-dashboard", "--host", host),
                ],
                DASK_SNAPSHOT__DIRECTORY=str(directory),
            )
        wait_for_workers(address, 2, env)
        done = subprocess.run(
            [sys.executable, str(HERE / "dashboard_client_script.py"), address],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        seen = json.loads(done.stdout)
        yield {
            "seen": seen,
            "directories": directories,
            "procs": procs,
            "base": f"http://127.0.0.1:{dashboard}",
        }
    finally:
        for proc in reversed(list(procs.values())):
            stop(proc)
        for log in logs:
            log.close()


def _page_urls(cluster: dict[str, Any]) -> dict[str, str]:
    """Each worker host's page URL, from the note on the client's exception."""
    urls = {}
    for worker, seen in cluster["seen"].items():
        assert seen["type"] == "ZeroDivisionError"
        (url,) = [m["url"] for note in seen["notes"] for m in SEE.finditer(note)]
        urls[worker.split("://")[1].split(":")[0]] = url
    return urls


def _file(cluster: dict[str, Any], host: str) -> Path:
    (path,) = cluster["directories"][host].glob("*.tar.zst")
    return path


def test_the_note_names_the_page_and_the_list_links_to_it(
    cluster: dict[str, Any], open_page: Any
) -> None:
    urls = _page_urls(cluster)
    list_url = cluster["base"] + "/snapshots/"
    for host, url in urls.items():
        assert url == list_url + _file(cluster, host).name

    opened = open_page(cluster["base"] + "/snapshots")  # redirected to the list
    page = opened.page
    assert page.url == list_url
    rows = page.locator("tbody tr")
    assert rows.count() == 3  # the two failures and a hostile event, shown inert
    hostile = rows.nth(2).inner_text()
    assert "<script>window.__pwned=1</script>" in hostile and "no file name in the event" in hostile
    assert "\\u202e\\x1b[31m" in hostile  # the bidi override and ESC shown, not obeyed
    assert rows.nth(2).locator("a, img, svg, iframe, script, style").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    # Newest first: the second worker's failure (127.0.0.2) came last.
    assert "127.0.0.2" in rows.nth(0).inner_text()
    assert "builtins.ZeroDivisionError" in rows.nth(0).inner_text()
    assert "division by zero" in rows.nth(1).inner_text()
    (ROOT / "tests" / "artifacts" / SHOTS).mkdir(parents=True, exist_ok=True)
    opened.screenshot(f"{SHOTS}/list")

    first = _file(cluster, "127.0.0.1").name
    page.locator(f'a[href="{first}"]').click()
    page.wait_for_load_state("load")
    assert page.url == urls["127.0.0.1"]
    assert page.title() == "ZeroDivisionError: division by zero"
    frame = page.locator("details.frame").first
    arrow = frame.locator("table.src tr.ran")
    assert arrow.locator("td").nth(1).inner_text().strip() == "return 1 / x"
    local = frame.locator("table.vars tr", has=page.locator("th", has_text="x"))
    assert local.locator("td").nth(2).inner_text() == "0"
    # The page and nothing else: no script ran, nothing else was fetched.
    assert opened.requests == [cluster["base"] + "/snapshots", list_url, urls["127.0.0.1"]]
    assert opened.dialogs == []
    # The renderer's policy sits in a <meta> (for file://), where chromium ignores
    # frame-ancestors and says so; nothing else may reach the console.
    assert [m for m in opened.console if "'frame-ancestors' is ignored" not in m] == []
    opened.screenshot(f"{SHOTS}/page")


def test_the_download_gives_the_files_bytes(cluster: dict[str, Any], open_page: Any) -> None:
    path = _file(cluster, "127.0.0.1")
    opened = open_page(cluster["base"] + "/snapshots/" + path.name)
    page = opened.page
    with page.expect_download() as info:
        page.locator(f'a[href="download/{path.name}"]').first.click()
    download = info.value
    assert download.suggested_filename == path.name
    assert Path(download.path()).read_bytes() == path.read_bytes()


def test_the_filter_works_without_javascript(cluster: dict[str, Any], open_page: Any) -> None:
    opened = open_page(cluster["base"] + "/snapshots/", javascript=False)
    page = opened.page
    page.select_option("select[name=type]", "builtins.ZeroDivisionError")
    page.locator("form button").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/snapshots/?type=builtins.ZeroDivisionError")
    assert page.locator("tbody tr").count() == 2
    opened.screenshot(f"{SHOTS}/list-filtered-noscript")


def test_path_traversal_is_refused(cluster: dict[str, Any], open_page: Any) -> None:
    for tail in ("..%2F..%2F..%2Fetc%2Fpasswd", "download/..%2F..%2Fetc%2Fpasswd"):
        opened = open_page(cluster["base"] + "/snapshots/" + tail)
        text = opened.page.locator("body").inner_text()
        assert "Snapshot not found" in text and "root:" not in text
    with urlopen(cluster["base"] + "/snapshots/") as listed:
        assert listed.status == 200
    try:
        urlopen(cluster["base"] + "/snapshots/download/..%2F..%2F..%2Fetc%2Fpasswd")
    except Exception as err:
        assert getattr(err, "code", None) == 404
    else:
        raise AssertionError("a traversal was served")
    opened.screenshot(f"{SHOTS}/refused")


def test_a_killed_workers_row_and_page_say_so(cluster: dict[str, Any], open_page: Any) -> None:
    """Last: it kills the second worker."""
    proc = cluster["procs"]["worker-127.0.0.2"]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    name = _file(cluster, "127.0.0.2").name
    deadline = time.monotonic() + 60
    while True:
        opened = open_page(cluster["base"] + "/snapshots/")
        row = opened.page.locator("tbody tr").nth(0).inner_text()
        if "has left the cluster" in row or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "has left the cluster; the file stays on" in row
    assert opened.page.locator(f'a[href="{name}"]').count() == 0
    # The other worker's row still links.
    assert opened.page.locator("tbody tr").nth(1).locator("a").count() == 2
    opened.screenshot(f"{SHOTS}/list-worker-gone")

    gone = open_page(cluster["base"] + "/snapshots/" + name)
    text = gone.page.locator("body").inner_text()
    assert "Worker gone" in text and "has left the cluster" in text
    gone.screenshot(f"{SHOTS}/page-worker-gone")
    try:
        urlopen(cluster["base"] + "/snapshots/" + name)
    except Exception as err:
        assert getattr(err, "code", None) == 410
    else:
        raise AssertionError("a gone worker's page was served")
