"""Helpers of the dashboard tests: the hook on a gen_cluster, HTTP requests to its dashboard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from cluster_hook import PLUGIN_NAME, SnapshotPlugin, StormBudget
from cluster_hook._dashboard.scheduler import SnapshotPages


async def hooked(c: Any, s: Any, workers: list[Any], **settings: Any) -> SnapshotPages:
    """The scheduler's pages and storms, and the worker plugin, as ``register`` installs them."""
    await c.register_plugin(StormBudget())
    await c.register_plugin(SnapshotPages())
    await c.register_plugin(SnapshotPlugin(**settings))
    # Each worker learns the page's URL once, at setup (for its notes).
    while not all(getattr(w.plugins[PLUGIN_NAME]._capturer, "pages_url", None) for w in workers):
        await asyncio.sleep(0.01)
    pages = s.plugins["dask-replay-pages"]
    assert isinstance(pages, SnapshotPages)
    return pages


async def get(s: Any, path: str, **kwargs: Any) -> HTTPResponse:
    """GET ``path`` from the scheduler's dashboard server (no redirect followed)."""
    url = f"http://127.0.0.1:{s.http_server.port}{path}"
    kwargs.setdefault("follow_redirects", False)
    return await AsyncHTTPClient().fetch(url, raise_error=False, **kwargs)


def body(response: HTTPResponse) -> str:
    return response.body.decode() if response.body else ""


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.tar.zst"))
