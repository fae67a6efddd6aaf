"""The dashboard's Snapshots list with 1,000 snapshots on the cluster: one answer within 1 s.

A scheduler in this process loads the hook as ``dask scheduler --preload
cluster_hook`` does (``distributed.scheduler.preload``); 1,000 ``snapshot``
events (as workers publish them) fill its index.  ``GET /snapshots/`` is
timed through the dashboard's own HTTP server, in alternating rounds with
distributed's own HTML page of the same server (``/info/main/workers.html``)
as the baseline.
"""

from __future__ import annotations

import asyncio
import time

from ._harness import Series, ratio
from ._report import Row, Section
from ._workspace import Workspace

TARGET_SECONDS = 1.0


def _event(i: int, directory: str) -> dict[str, object]:
    return {
        "key": f"('recip-{i:04x}', {i})",
        "path": f"{directory}/20261207T000000-recip-{i:04x}-node-{i % 50}-1-{i:08x}.tar.zst",
        "url": None,
        "host": f"node-{i % 50}",
        "exception": ("builtins.ZeroDivisionError", "builtins.KeyError", "builtins.ValueError")[
            i % 3
        ],
        "message": "division by zero <and some text to escape> " * 3,
        "fingerprint": f"{i % 7:016x}",
        "attempt": 1,
        "bytes": 14_000 + i,
        "complete": True,
    }


async def _measure(ws: Workspace, snapshots: int, rounds: int) -> tuple[Series, Series, int]:
    import dask
    from distributed import Scheduler
    from tornado.httpclient import AsyncHTTPClient

    ours, baseline = Series("list"), Series("workers page")
    with dask.config.set({"distributed.scheduler.preload": ["cluster_hook"]}):
        async with Scheduler(host="127.0.0.1", port=0, dashboard_address="127.0.0.1:0") as s:
            directory = str(ws.fresh_dir("dashboard"))
            for i in range(snapshots):
                s.log_event("snapshot", _event(i, directory))
            base = f"http://127.0.0.1:{s.http_server.port}"
            client = AsyncHTTPClient()
            size = 0
            for _ in range(rounds + 1):  # the first round warms up
                for series, path in ((ours, "/snapshots/"), (baseline, "/info/main/workers.html")):
                    start = time.perf_counter()
                    response = await client.fetch(base + path)
                    series.seconds.append(time.perf_counter() - start)
                    if path == "/snapshots/":
                        size = len(response.body)
            ours.seconds.pop(0)
            baseline.seconds.pop(0)
    return ours, baseline, size


def run(ws: Workspace) -> Section:
    section = Section("dashboard", "Dashboard: the Snapshots list")
    snapshots = 1000
    rounds = 1 if ws.scale.smoke else 7
    ours, baseline, size = asyncio.run(_measure(ws, snapshots, rounds))
    r = ratio(ours, baseline)
    section.rows.append(
        Row(
            f"`GET /snapshots/` with {snapshots:,} snapshots on the cluster, "
            "vs distributed's `/info/main/workers.html`",
            ours.describe(),
            baseline.describe(),
            r.describe(),
            f"< {TARGET_SECONDS:g} s",
            ours.median < TARGET_SECONDS,
        )
    )
    section.notes.append(
        f"The list page of {snapshots:,} rows is {size / 2**10:.0f} KiB of HTML; each round "
        "is one request through tornado's client to the scheduler's own HTTP server, in this "
        "process, the two pages alternating."
    )
    return section
