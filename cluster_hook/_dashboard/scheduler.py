"""The scheduler's plugin: the index of snapshots and the Snapshots pages on the dashboard.

``SnapshotPages`` follows the ``snapshot`` topic (``log_event``; at start it
reads what the topic still holds, for ``register(client)`` on a running
cluster), adds its routes to the dashboard's server (``routes``) and puts
the list's URL in the scheduler's metadata (``PAGES_METADATA``) so that
workers can name each snapshot's page in the note on the exception.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import dask.config
from distributed.comm.addressing import get_address_host
from distributed.diagnostics.plugin import SchedulerPlugin
from distributed.metrics import time
from distributed.utils import format_dashboard_link

from snapshot import setting

from .._config import ConfigError
from .._names import PAGES_METADATA, PAGES_PLUGIN_NAME, SNAPSHOT_TOPIC, STORMS_PLUGIN_NAME
from .._storms.scheduler import StormBudget
from . import serve
from .index import Row, SnapshotIndex
from .listing import Shown, list_page
from .routes import LIST_PATH, dashboard_prefix, install

if TYPE_CHECKING:
    from distributed import Scheduler

logger = logging.getLogger("distributed.scheduler.cluster_hook")

#: Rows on one page of the list.
PAGE_ROWS = 1000


def pages_url(scheduler: Scheduler, prefix: str) -> str | None:
    """The list's URL as the scheduler announces its dashboard (``distributed.dashboard.link``).

    The link's ``/status`` is replaced by the list's path; a link without it
    gives ``scheme://host:port/<prefix>snapshots/``.
    """
    server = scheduler.services.get("dashboard")
    if server is None or not scheduler.listeners:
        return None
    host = get_address_host(scheduler.listeners[0].contact_address)
    try:
        link = str(format_dashboard_link(host, server.port))
    except Exception:  # the link template names an unknown variable
        link = f"http://{host}:{server.port}/status"
    if link.endswith("/status"):
        base = link[: -len("/status")]
        if prefix.strip("/") and not base.rstrip("/").endswith("/" + prefix.strip("/")):
            base = base.rstrip("/") + "/" + prefix.strip("/")
        return base.rstrip("/") + "/" + LIST_PATH
    scheme = link.split("://", 1)[0] if "://" in link else "http"
    return f"{scheme}://{host}:{server.port}{prefix}{LIST_PATH}"


class SnapshotPages(SchedulerPlugin):
    """Lists the cluster's snapshots on the dashboard and serves each one's page."""

    name = PAGES_PLUGIN_NAME
    idempotent = True

    def __init__(self) -> None:
        self.index = SnapshotIndex()
        self.url: str | None = None
        self._scheduler: Scheduler | None = None
        self._remove: Callable[[], None] | None = None

    async def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        try:
            self._start(scheduler)
        except Exception:  # the pages must never stop a scheduler from starting
            logger.exception("dask-replay: no Snapshots pages on the dashboard")

    def _start(self, scheduler: Scheduler) -> None:
        try:
            wanted = setting("dashboard", dask.config.get("snapshot.dashboard", True))
        except ConfigError as err:
            logger.error("dask-replay: no Snapshots pages on the dashboard: %s", err)
            return
        if not wanted:
            logger.info("dask-replay: no Snapshots pages on the dashboard (snapshot.dashboard)")
            return
        for stamp, msg in scheduler.get_events(SNAPSHOT_TOPIC):
            self.index.add(stamp, msg)
        application = getattr(scheduler, "http_application", None)
        if application is None:
            return
        prefix = dashboard_prefix(application)
        self._remove = install(application, prefix, self)
        self.url = pages_url(scheduler, prefix)
        if self.url is not None:
            scheduler.set_metadata(list(PAGES_METADATA), self.url)
            logger.info("dask-replay: the cluster's snapshots are listed at %s", self.url)

    async def close(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
        if self._scheduler is not None:
            self._scheduler.set_metadata(list(PAGES_METADATA), None)

    def log_event(self, topic: str, msg: Any) -> None:
        if topic == SNAPSHOT_TOPIC:
            self.index.add(time(), msg)

    # -- what the handlers use -------------------------------------------------
    def rpc(self, address: str) -> Any:
        assert self._scheduler is not None
        return self._scheduler.rpc(address)

    def workers(self) -> Mapping[str, Any]:
        return self._scheduler.workers if self._scheduler is not None else {}

    def page_url(self, name: str) -> str | None:
        return None if self.url is None else self.url + quote(name, safe="")

    def log_failed_download(self, name: str, err: BaseException) -> None:
        logger.warning("dask-replay: the download of %s stopped: %s", name, err)

    def list_html(self, kind: str, start: int) -> str:
        rows = list(self.index.newest_first())
        types = sorted(Counter(r.error for r in rows if r.error).items())
        matching = [r for r in rows if r.error == kind] if kind else rows
        workers = self.workers()
        live_hosts = set()
        for address in workers:
            try:
                live_hosts.add(get_address_host(address))
            except Exception:
                continue
        upload = serve.upload_prefix()
        storms = self._storms()
        shown = [
            self._shown(r, workers, live_hosts, upload, storms)
            for r in matching[start : start + PAGE_ROWS]
        ]
        return list_page(
            shown,
            total=len(rows),
            matching=len(matching),
            types=types,
            chosen=kind,
            start=start,
            page_rows=PAGE_ROWS,
        )

    def _storms(self) -> Mapping[str, Any]:
        plugin = self._scheduler.plugins.get(STORMS_PLUGIN_NAME) if self._scheduler else None
        return plugin.storms if isinstance(plugin, StormBudget) else {}

    @staticmethod
    def _shown(
        row: Row,
        workers: Mapping[str, Any],
        live_hosts: set[str],
        upload: str | None,
        storms: Mapping[str, Any],
    ) -> Shown:
        storm = storms.get(row.fingerprint) if row.fingerprint else None
        failures = ""
        if storm is not None and storm.failures > storm.written:
            # A storm: its first few failures were written, the others only counted.
            failures = f"{storm.failures} failures, {storm.written} snapshot(s)"
        if row.name is None:
            return Shown(row, False, "no file name in the event", failures)
        if row.worker in workers:
            return Shown(row, True, "", failures)
        left = f"worker {row.worker or '?'} has left the cluster"
        if serve.storage_url(row, upload) is not None:
            return Shown(row, True, left + "; served from the upload copy", failures)
        try:
            same_host = get_address_host(row.worker) in live_hosts
        except Exception:
            same_host = False
        if same_host:
            return Shown(row, True, left + "; another worker on its host may serve it", failures)
        return Shown(row, False, left + f"; the file stays on {row.host or '?'}", failures)
