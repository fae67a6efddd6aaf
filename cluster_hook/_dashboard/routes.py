"""The dashboard's routes: the list, a snapshot's page, its download (tornado handlers).

They are added to the scheduler's own HTTP application
(``Scheduler.http_application``, a ``distributed.http.routing.RoutingApplication``)
under the dashboard's prefix, which distributed does not keep: it is read
back from the routes distributed registered (``dashboard_prefix``).

``<prefix>snapshots`` redirects to ``<prefix>snapshots/``, the list; a row's
links are relative to it: ``NAME`` (the page) and ``download/NAME``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import dask.config
from tornado import web
from tornado.iostream import StreamClosedError

from . import serve
from .files import valid_name
from .index import SnapshotIndex
from .listing import CSP, message_page


class SnapshotPages(Protocol):
    """What the handlers need of the scheduler's plugin (``scheduler.SnapshotPages``)."""

    index: SnapshotIndex

    def rpc(self, address: str) -> Any: ...
    def workers(self) -> Mapping[str, Any]: ...
    def list_html(self, kind: str, start: int) -> str: ...
    def log_failed_download(self, name: str, err: BaseException) -> None: ...


#: The list's path under the dashboard's prefix.
LIST_PATH = "snapshots/"


def dashboard_prefix(application: Any) -> str:
    """The prefix distributed put before its routes (``--dashboard-prefix``), e.g. ``/``.

    Found by matching the handlers of the route modules in
    ``distributed.scheduler.http.routes`` against the application's rules.
    """
    known: dict[Any, str] = {}
    for module_name in dask.config.get("distributed.scheduler.http.routes", None) or ():
        module = sys.modules.get(str(module_name))
        for route in getattr(module, "routes", None) or ():
            try:
                url, cls = route[0], route[1]
            except (TypeError, IndexError):
                continue
            known.setdefault(cls, str(url).lstrip("/"))
    stack = list(getattr(application.default_router, "rules", ()))
    while stack:
        rule = stack.pop()
        nested = getattr(rule.target, "rules", None)
        if isinstance(nested, list):
            stack.extend(nested)
            continue
        regex = getattr(rule.matcher, "regex", None)
        url = known.get(rule.target)
        if regex is None or not url:
            continue
        pattern = regex.pattern[:-1] if regex.pattern.endswith("$") else regex.pattern
        if pattern.endswith(url) and pattern[: -len(url)].startswith("/"):
            return pattern[: -len(url)]
    return "/"


class _Handler(web.RequestHandler):
    pages: SnapshotPages

    def initialize(self, pages: SnapshotPages) -> None:
        self.pages = pages

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    def answer(self, status: int, title: str, message: str, list_href: str = "./") -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(message_page(status, title, message, list_href))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Never a traceback, whatever tornado's settings say.
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(message_page(status_code, "Error", self._reason))


class ListHandler(_Handler):
    def get(self) -> None:
        if not self.request.path.endswith("/"):
            self.redirect(self.request.path.rsplit("/", 1)[-1] + "/")
            return
        kind = self.get_query_argument("type", "")[:300]
        try:
            start = max(0, int(self.get_query_argument("start", "0")))
        except ValueError:
            start = 0
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.pages.list_html(kind, start))


class PageHandler(_Handler):
    async def get(self, name: str) -> None:
        row = self.pages.index.get(name) if valid_name(name) else None
        if row is None or row.name is None:
            self.answer(
                404, "Snapshot not found", f"No snapshot of this cluster is named {name!r}."
            )
            return
        answer = await serve.page(
            self.pages.rpc, row, self.pages.workers(), "download/" + quote(row.name, safe="")
        )
        if answer.status != 200:
            self.answer(answer.status, answer.title, answer.message)
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(answer.html)


class DownloadHandler(_Handler):
    async def get(self, name: str) -> None:
        row = self.pages.index.get(name) if valid_name(name) else None
        if row is None or row.name is None:
            self.answer(
                404, "Snapshot not found", f"No snapshot of this cluster is named {name!r}.", "../"
            )
            return
        source = await serve.chunks(self.pages.rpc, row, self.pages.workers())
        if isinstance(source, serve.Answer):
            self.answer(source.status, source.title, source.message, "../")
            return
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", f'attachment; filename="{row.name}"')
        try:
            async for chunk in source:
                self.write(chunk)
                await self.flush()  # one chunk in memory at a time
        except StreamClosedError:
            return
        except Exception as err:  # headers are sent: cut the answer short, say why in the log
            self.pages.log_failed_download(row.name, err)
            self.request.connection.close()  # type: ignore[union-attr]
            return
        self.finish()


def routes(prefix: str, pages: SnapshotPages) -> list[tuple[str, type, dict[str, Any]]]:
    """The three routes under ``prefix`` (``/`` or ``/foo/``)."""
    base = prefix + "snapshots"
    kwargs = {"pages": pages}
    name = r"([^/]+)"
    return [
        (base + "/?", ListHandler, kwargs),
        (base + "/download/" + name, DownloadHandler, kwargs),
        (base + "/" + name, PageHandler, kwargs),
    ]


def install(application: Any, prefix: str, pages: SnapshotPages) -> Callable[[], None]:
    """Add the routes before distributed's own; returns what removes them."""
    rules = application.default_router.rules
    before = list(rules)
    application.add_handlers(r".*$", routes(prefix, pages))
    added = [rule for rule in rules if all(rule is not old for old in before)]

    def remove() -> None:
        for rule in added:
            if rule in rules:
                rules.remove(rule)

    return remove
