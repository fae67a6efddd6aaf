"""The worker's part: its snapshots rendered as pages, or read in chunks, by name.

The worker plugin registers two handlers (``PAGE_HANDLER``, ``READ_HANDLER``)
that the scheduler calls for the dashboard.  Both look only inside this
worker's configured snapshot directories (``files``); the page is rendered
in a thread by ``snapshot.render_html``, which never unpickles, from the
descriptor the checks were made on (never the path again: the file could be
swapped in between), reading only the manifest and the sources.  Each answers
a dict: ``{"status": "ok", ...}``, or ``{"status": "missing" | "damaged",
"reason": ...}`` (no exception crosses the wire, and none reaches the
worker's log as an error).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import snapshot

from .._names import PAGE_HANDLER, READ_HANDLER
from .files import NotHere, open_in, read_chunk

logger = logging.getLogger("distributed.worker.cluster_hook")

Directories = Callable[[], Sequence[Path]]


def render_page(fd: int, name: str, download_href: str | None) -> str:
    """The one renderer's page of the open file ``fd`` (closed here; never unpickles).

    Only the manifest and the sources are held (``sources_only``), not the pickles.
    """
    with os.fdopen(fd, "rb") as fh:
        opened = snapshot.open_snapshot(name, head_only=True, sources_only=True, fileobj=fh)
    return snapshot.render_html(opened, download_href=download_href, name=name)


def _render_named(directories: list[Path], name: str, download_href: str | None) -> str:
    return render_page(open_in(directories, name), name, download_href)


class WorkerPages:
    """The handlers, over the directories ``directories()`` names at each call."""

    def __init__(self, directories: Directories) -> None:
        self.directories = directories

    async def page(self, name: str = "", download_href: str | None = None) -> dict[str, Any]:
        href = download_href if isinstance(download_href, str) else None
        try:
            # Opened and closed in the thread: a handler cancelled before the
            # thread starts leaves no descriptor behind.
            html = await asyncio.to_thread(_render_named, list(self.directories()), name, href)
        except NotHere as err:
            return {"status": "missing", "reason": str(err)}
        except snapshot.SnapshotError as err:
            return {"status": "damaged", "reason": str(err)}
        except Exception as err:  # the renderer's bug must not look like a damaged file
            logger.warning("dask-replay: could not render %s: %r", name, err)
            return {"status": "error", "reason": f"{type(err).__name__} while rendering"}
        return {"status": "ok", "html": html}

    async def read(self, name: str = "", offset: int = 0, length: int = 0) -> dict[str, Any]:
        try:
            data = await asyncio.to_thread(
                read_chunk, list(self.directories()), name, offset, length
            )
        except NotHere as err:
            return {"status": "missing", "reason": str(err)}
        except OSError as err:
            return {"status": "missing", "reason": f"{name}: {err.strerror}"}
        return {"status": "ok", "data": data}

    def install(self, worker: Any) -> None:
        worker.handlers[PAGE_HANDLER] = self.page
        worker.handlers[READ_HANDLER] = self.read

    @staticmethod
    def uninstall(worker: Any) -> None:
        for name in (PAGE_HANDLER, READ_HANDLER):
            worker.handlers.pop(name, None)
