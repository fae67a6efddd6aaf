"""The Snapshots list on the dashboard, with a real scheduler and workers (``gen_cluster``).

The hook as ``register(client)`` installs it; requests go to the scheduler's
own HTTP server through tornado's client: the routes under test are the real
ones, with the real index fed by the workers' ``snapshot`` events.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import dask
from dashboard_helpers import body, get, hooked, names
from dashboard_userfuncs import fail_with, recip
from distributed import Client, wait
from distributed.utils_test import gen_cluster

from cluster_hook import SnapshotPlugin
from cluster_hook._dashboard.index import MAX_ROWS
from cluster_hook._dashboard.listing import CSP
from cluster_hook._dashboard.scheduler import SnapshotPages, pages_url

ROW = re.compile(r"<tr><td>")


@gen_cluster(client=True, nthreads=[("", 1), ("", 1)])
async def test_the_list_shows_each_failure_newest_first_and_filters_by_type(
    c: Client, s: Any, a: Any, b: Any, snapshot_dir: Path
) -> None:
    await hooked(c, s, [a, b], directory=str(snapshot_dir))
    first = c.submit(recip, 0, key="recip-zero")
    await wait(first)
    second = c.submit(fail_with, "ValueError", "bad <b>value</b>", key="valueerror-task")
    await wait(second)

    moved = await get(s, "/snapshots")
    assert moved.code in (301, 302) and moved.headers["Location"] == "snapshots/"
    listed = await get(s, "/snapshots/")
    assert listed.code == 200
    assert listed.headers["Content-Security-Policy"] == CSP
    html = body(listed)
    assert len(ROW.findall(html)) == 2
    # Newest first: the ValueError, then the ZeroDivisionError.
    table = html.split("<tbody>")[1]
    assert table.index("builtins.<wbr>ValueError</b>") < table.index("ZeroDivisionError</b>")
    assert "bad &lt;b&gt;value&lt;/b&gt;" in html and "<b>value</b>" not in html
    assert "division by zero" in html and "recip-zero" in html
    for name in names(snapshot_dir):
        assert f'<a href="{name}">page</a>' in html
        assert f'<a href="download/{name}" download="{name}">download</a>' in html
    assert {a.address, b.address} >= {w for w in (a.address, b.address) if w in html}
    assert a.address in html or b.address in html

    only = body(await get(s, "/snapshots/?type=builtins.ZeroDivisionError"))
    assert len(ROW.findall(only)) == 1 and "ValueError</b>" not in only
    # The form lists every type with its count; the chosen one stays selected.
    assert '<option value="builtins.ZeroDivisionError" selected>' in only
    assert '<option value="builtins.ValueError">builtins.ValueError (1)</option>' in only
    none = body(await get(s, "/snapshots/?type=nothing.Such"))
    assert not ROW.findall(none)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_the_note_on_the_exception_names_the_page(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    pages = await hooked(c, s, [a], directory=str(snapshot_dir))
    port = s.http_server.port
    assert pages.url is not None and pages.url.endswith(f":{port}/snapshots/")
    future = c.submit(recip, 0)
    await wait(future)
    exc = await future.exception()
    (name,) = names(snapshot_dir)
    notes = "\n".join(exc.__notes__)
    assert f"dask-replay: see it at {pages.url}{name}" in notes
    # That URL is the page's route on this server.
    page_path = pages.url.split(f":{port}", 1)[1] + name
    assert page_path == f"/snapshots/{name}"


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_events_are_hostile_input_and_render_inert(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await hooked(c, s, [a], directory=str(snapshot_dir))
    s.log_event(
        "snapshot",
        {
            "key": '"><img src=x onerror=alert(1)>',
            "path": "/etc/passwd",
            "exception": "<script>alert(1)</script>",
            "message": "javascript:alert(1) \u202e</pre>",
            "host": "<i>h</i>",
            "bytes": "many",
            "death": {"cause": "<b>oom</b>"},
        },
    )
    s.log_event("snapshot", ["not", "a", "mapping"])
    # An error type made to leave the filter's <option value="...">.
    s.log_event("snapshot", {"exception": 'x"><script>alert(1)</script>\u202e\x1b', "path": 7})
    html = body(await get(s, "/snapshots/"))
    assert len(ROW.findall(html)) == 2
    assert '<option value="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\u202e\x1b">' in html
    assert "<script>" not in html and "<img" not in html and "<i>h" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;oom&lt;/b&gt;" in html
    # Bidi overrides and controls are shown, never obeyed (raw only in the option's
    # value, an attribute, so that the filter matches).
    assert "\u202e" not in html.split("<tbody>")[1] and '<span class="ctl">\\u202e</span>' in html
    # /etc/passwd is no snapshot's name: the row has no link at all.
    assert "href" not in html.split("<tbody>")[1]
    assert "no file name in the event" in html


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_thousand_snapshots_in_one_answer_and_the_index_is_bounded(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    pages = await hooked(c, s, [a], directory=str(snapshot_dir))
    for i in range(1100):
        s.log_event(
            "snapshot",
            {
                "key": f"task-{i}",
                "path": f"{snapshot_dir}/20261207T000000-task_{i}-h-1-{i:08x}.tar.zst",
                "exception": "builtins.ZeroDivisionError" if i % 2 else "builtins.KeyError",
                "message": "division by zero",
                "host": "h",
                "bytes": 1000 + i,
                "fingerprint": "f" * 16,
            },
        )
    html = body(await get(s, "/snapshots/"))
    assert len(ROW.findall(html)) == 1000
    assert html.index("task-1099") < html.index("task-1000")
    assert 'href="?start=1000"' in html
    older = body(await get(s, "/snapshots/?start=1000"))
    assert len(ROW.findall(older)) == 100 and "task-99<" in older
    filtered = body(await get(s, "/snapshots/?type=builtins.KeyError"))
    assert len(ROW.findall(filtered)) == 550
    assert pages.index.limit == MAX_ROWS and len(pages.index) == 1100


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_storms_rows_say_how_many_failures_their_files_stand_for(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await hooked(c, s, [a], directory=str(snapshot_dir), max_per_fingerprint=2)
    await wait(c.map(recip, [0] * 5, pure=False))
    assert len(names(snapshot_dir)) == 2
    while "5 failures, 2 snapshot(s)" not in (html := body(await get(s, "/snapshots/"))):
        await asyncio.sleep(0.05)  # counted failures arrive on the workers' batched streams
    assert len(ROW.findall(html)) == 2
    assert html.count("<td>5 failures, 2 snapshot(s)</td>") == 2


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_snapshot_dashboard_false_serves_nothing_and_names_no_page(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    with dask.config.set({"snapshot.dashboard": False}):
        await c.register_plugin(SnapshotPages())
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    future = c.submit(recip, 0)
    await wait(future)
    (name,) = names(snapshot_dir)
    for path in ("/snapshots/", f"/snapshots/{name}", f"/snapshots/download/{name}"):
        assert (await get(s, path)).code == 404
    notes = "\n".join((await future.exception()).__notes__)
    assert "dask-replay: snapshot written to" in notes and "see it at" not in notes


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_death_snapshots_row_says_how_the_worker_died(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await hooked(c, s, [a], directory=str(snapshot_dir))
    # The event the surviving worker publishes for a death snapshot (_deaths/writer.py).
    a.log_event(
        "snapshot",
        {
            "key": "hog-1",
            "path": f"{snapshot_dir}/20261207T000000-hog-1-h-1-33333333.tar.zst",
            "exception": "distributed.scheduler.KilledWorker",
            "message": "the worker was killed by the nanny for its memory",
            "bytes": 2048,
            "death": {"cause": "memory", "worker": "tcp://10.0.0.9:4000", "signal": 15},
        },
    )
    while "KilledWorker" not in (html := body(await get(s, "/snapshots/"))):
        await asyncio.sleep(0.01)
    assert "<td>memory, signal 15 (tcp://10.0.0.9:4000)</td>" in html


@gen_cluster(client=True, nthreads=[("", 1)], scheduler_kwargs={"http_prefix": "/under/here"})
async def test_the_pages_live_under_the_dashboards_prefix(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    pages = await hooked(c, s, [a], directory=str(snapshot_dir))
    assert pages.url is not None and pages.url.endswith("/under/here/snapshots/")
    future = c.submit(recip, 0)
    await wait(future)
    (name,) = names(snapshot_dir)
    assert f"see it at {pages.url}{name}" in "\n".join((await future.exception()).__notes__)
    assert (await get(s, "/snapshots/")).code == 404
    listed = await get(s, "/under/here/snapshots/")
    assert listed.code == 200 and f'href="{name}"' in body(listed)
    assert (await get(s, f"/under/here/snapshots/{name}")).code == 200
    assert (await get(s, f"/under/here/snapshots/download/{name}")).code == 200


@gen_cluster(client=True, nthreads=[])
async def test_the_pages_url_follows_the_dashboard_link(c: Client, s: Any) -> None:
    """``distributed.dashboard.link`` as users set it behind a proxy: its /status is replaced."""
    port = s.http_server.port
    proxied = "https://hub.example/user/me/proxy/{port}/status"
    with dask.config.set({"distributed.dashboard.link": proxied}):
        assert pages_url(s, "/") == f"https://hub.example/user/me/proxy/{port}/snapshots/"
        assert pages_url(s, "/pre/") == f"https://hub.example/user/me/proxy/{port}/pre/snapshots/"
    with dask.config.set({"distributed.dashboard.link": "{scheme}://{host}:{port}/pre/status"}):
        assert pages_url(s, "/pre/").endswith(f":{port}/pre/snapshots/")
    with dask.config.set({"distributed.dashboard.link": "http://{host}:{port}/{NO_SUCH_VARIABLE}"}):
        assert pages_url(s, "/").endswith(f":{port}/snapshots/")


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_hostile_pages_url_in_the_metadata_never_reaches_the_note(
    c: Client, s: Any, a: Any
) -> None:
    """Any client can set the scheduler's metadata the workers read the list's URL
    from; a URL with an escape sequence, a space or a newline is not used."""
    from cluster_hook._dashboard.note import learn_pages_url
    from cluster_hook._names import PAGES_METADATA

    good = "http://127.0.0.1:8787/snapshots/"
    for url in (
        "http://x/\x1b]0;pwned\x07/",
        "http://x/ \nFAKE: run rm -rf",
        "https://x/" + "a" * 5000,
        "javascript:alert(1)",
    ):
        await c.set_metadata(list(PAGES_METADATA), url)
        assert await learn_pages_url(a) is None, repr(url)
    await c.set_metadata(list(PAGES_METADATA), good)
    assert await learn_pages_url(a) == good


def test_a_page_asks_the_writer_and_at_most_three_neighbours_on_its_host() -> None:
    from cluster_hook._dashboard.index import Row
    from cluster_hook._dashboard.serve import MAX_NEIGHBOURS, holders

    writer = "tcp://10.0.0.1:4000"
    same_host = {f"tcp://10.0.0.1:{4001 + i}": None for i in range(6)}
    workers = {writer: None, **same_host, "tcp://10.0.0.2:4000": None}
    row = Row(0.0, "s.tar.zst", "k", "E", "", writer, "h", "/p", None, None, None, None, None)
    assert holders(row, workers) == [writer, *list(same_host)[:MAX_NEIGHBOURS]]
    gone = Row(0.0, "s.tar.zst", "k", "E", "", "tcp://10.0.0.1:3999", "h", "/p", *[None] * 5)
    assert holders(gone, workers) == [writer, *list(same_host)[: MAX_NEIGHBOURS - 1]]
