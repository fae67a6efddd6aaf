"""The HTML of the Snapshots list and of the pages' error answers.

Every string from an event is escaped (``html.escape``, quotes too); links
go only to our own routes, relative to the list (``NAME`` or
``download/NAME``, names that ``files.valid_name`` accepted, URL-quoted);
no script, no inline event handler, no external resource: the handlers send
``CSP`` with every answer.  The filter is a GET form, so it works without
JavaScript.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

from dask.utils import format_bytes

import snapshot

from .index import Row

#: The Content-Security-Policy of every answer: nothing runs, nothing is fetched.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
td.msg{max-width:32em;overflow-wrap:break-word}
.gone{color:#a00}
.note{color:#555}
code{font-size:12px;overflow-wrap:anywhere}
.ctl{color:#a00;font-family:monospace}
form{margin:.5em 0}
@media (max-width:700px){td.msg{max-width:14em}}
"""


@dataclass(frozen=True)
class Shown:
    """One row with what the scheduler knows now: where the file can be read from."""

    row: Row
    reachable: bool  # the page and the download can be served
    status: str  # "" when the holder runs; else why or from where
    failures: str  # the storm's count, "" when the file stands for one failure


def _e(text: object) -> str:
    """Escaped for HTML by the snapshot page's own rule: every character ``str.isprintable``
    rejects (controls, bidi overrides, zero-width) shown as ``\\u202e``."""
    return snapshot.html_text(text)


def _a(text: object) -> str:
    """Escaped for an attribute's value (quotes too): no markup inside an attribute."""
    return escape(str(text), quote=True)


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp))


def _row_html(shown: Shown) -> str:
    row = shown.row
    if row.name is not None and shown.reachable:
        href = quote(row.name, safe="")
        links = (
            f'<a href="{_a(href)}">page</a> · '
            f'<a href="download/{_a(href)}" download="{_a(row.name)}">download</a>'
        )
    else:
        links = "—"
    status = f'<div class="gone">{_e(shown.status)}</div>' if shown.status else ""
    size = format_bytes(row.size) if row.size is not None else ""
    return (
        "<tr>"
        f"<td>{_e(_when(row.time))}</td>"
        f"<td><code>{_e(row.key)}</code></td>"
        f'<td class="msg"><b>{".<wbr>".join(map(_e, row.error.split(".")))}</b><br>'
        f"{_e(row.message)}</td>"
        f"<td><code>{_e(row.worker)}</code><br>{_e(row.host)}{status}</td>"
        f"<td>{_e(size)}</td>"
        f"<td>{_e(row.cause or '')}</td>"
        f"<td>{_e(shown.failures)}</td>"
        f"<td>{links}</td>"
        "</tr>"
    )


def list_page(
    shown: Sequence[Shown],
    *,
    total: int,
    matching: int,
    types: Sequence[tuple[str, int]],
    chosen: str,
    start: int,
    page_rows: int,
) -> str:
    """The list: ``shown`` (newest first) out of ``matching`` rows of ``total``."""
    options = ['<option value="">every error type</option>'] + [
        f'<option value="{_a(t)}"{" selected" if t == chosen else ""}>{_e(t)} ({n})</option>'
        for t, n in types
    ]
    rows = "\n".join(_row_html(s) for s in shown)
    more = ""
    if start + len(shown) < matching:
        params: dict[str, object] = {"start": start + page_rows}
        if chosen:
            params["type"] = chosen
        query = urlencode(params)
        more = f'<p><a href="?{_a(query)}">older snapshots</a></p>'
    what = f"{matching} of {total}" if chosen else f"{total}"
    empty = "" if shown else '<p class="note">No snapshot here yet.</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Snapshots</title><style>{_STYLE}</style></head>
<body><h1>Snapshots</h1>
<p class="note">{_e(what)} snapshot(s) of failed tasks on this cluster, newest first
(dask-replay). Open one with <code>python -m replay NAME</code> after a download.</p>
<form method="get" action=""><label>Error type <select name="type">{"".join(options)}</select></label>
<button type="submit">Show</button></form>
{empty}<table><thead><tr><th>Time (UTC)</th><th>Task</th><th>Error</th><th>Worker</th>
<th>Size</th><th>Death cause</th><th>Failures</th><th>Snapshot</th></tr></thead>
<tbody>
{rows}
</tbody></table>{more}
</body></html>
"""


def message_page(status: int, title: str, message: str, list_href: str = "./") -> str:
    """An error answer: the status, a title and a message, escaped."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_a(title)}</title>
<style>{_STYLE}</style></head>
<body><h1>{_e(title)}</h1><p>{_e(message)}</p>
<p class="note">HTTP {status} · <a href="{_a(list_href)}">the list of snapshots</a></p></body></html>
"""
