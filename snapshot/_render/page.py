"""``snapshot.render_html``: one self-contained HTML page for a snapshot file.

The page loads nothing (a Content Security Policy forbids every source but its
inline style), needs no script (folding is ``<details>``), reads on a phone
and in print, and is built from the manifest and the captured sources only,
read from the head of the file as ``info`` reads it: nothing is unpickled,
and the cost does not grow with the data the file holds.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

from .._model.labels import death_label, failing_call, format_key
from .._model.manifest import Manifest
from .._read.opening import open_snapshot
from .._read.snapshot import Snapshot
from .escape import text
from .frames import frames_section
from .sections import (
    call_section,
    capture_section,
    death_section,
    environment_section,
    error_section,
    problems_section,
    traceback_section,
)
from .source import SourceFinder
from .style import CSP, CSS
from .values import value_rows

__all__ = ["check_href", "page_body", "render_html"]

# A link of ours: a relative path (with an optional query) made of URL-safe
# characters only; no scheme (no ':'), no '//' host, no backslash, no quote.
_OUR_HREF = re.compile(r"(?!//)[A-Za-z0-9._~/%?=&+-]{1,2000}")


def check_href(href: str) -> str:
    """``href`` if it is a relative URL of ours; ``ValueError`` otherwise (never a
    ``javascript:`` or another site's URL)."""
    if not isinstance(href, str) or not _OUR_HREF.fullmatch(href):
        raise ValueError(
            f"download_href must be a relative URL of URL-safe characters, without a scheme "
            f"or host; got {href!r}"
        )
    return href


def render_html(
    source: str | os.PathLike[str] | Snapshot,
    *,
    download_href: str | None = None,
    name: str | None = None,
    fragment: bool = False,
) -> str:
    """The HTML page of the snapshot at ``source`` (a path, or one already opened).

    ``download_href`` (a relative URL of ours, checked) is shown as a link to
    download the file; ``name`` is the file's name in the commands shown
    (``python -m replay NAME``; default: the path's base name).  ``fragment``
    gives a ``<div>`` for Jupyter instead of a document, its frames folded.
    A damaged file raises :class:`SnapshotError` (a subclass); nothing is unpickled.
    """
    href = check_href(download_href) if download_href is not None else None
    opened = (
        source
        if isinstance(source, Snapshot)
        else open_snapshot(source, head_only=True, sources_only=True)
    )
    path = opened.path
    shown_name = name if name is not None else os.path.basename(path) or path
    body = page_body(opened.model, opened.source, shown_name, href, folded=fragment)
    if fragment:
        return f'<div class="drp"><style>{CSS}</style>{body}</div>'
    title = text(_title(opened.model), limit=200)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head>"
        f'<body><main class="drp">{body}</main></body></html>\n'
    )


def _title(model: Manifest) -> str:
    if model.death is not None:
        return f"Worker died: {death_label(model)}"
    error = model.error
    if error is None:
        return _on_demand_title(model) or "Snapshot"
    return f"{error.type or '?'}: {error.message or ''}"[:200]


_STATES = {
    "finished": "the task had finished",
    "failed": "the task had failed",
    "pending": "asked for before the task ran, written once it had run",
}


def _on_demand_title(model: Manifest) -> str | None:
    section = model.on_demand
    if section is None:
        return None
    return "Captured on demand" + (": the task finished" if section.state == "finished" else "")


def _on_demand_section(model: Manifest) -> str:
    """Section 4.13: a snapshot asked for (``cluster_hook.capture``), and what the task
    returned; replaying it compares the new result with this one."""
    section = model.on_demand
    if section is None:
        return ""
    state = _STATES.get(str(section.state), f"state {section.state or '?'}")
    parts = [
        '<section id="on-demand"><h2>Captured on demand</h2>',
        f'<p class="meta">by <code>{text(section.trigger or "?")}</code>; {text(state)}',
        f", asked by <code>{text(section.requested_by)}</code>" if section.requested_by else "",
        ".</p>",
    ]
    if section.result is not None:
        parts.append("<h3>What it returned</h3>")
        parts.append(value_rows(model, [("result", section.result)], 1))
        parts.append(
            '<p class="note">Replaying it runs the call again and compares the new result '
            "with this one.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _commands(name: str, href: str | None) -> str:
    quoted = shlex.quote(name)
    rows = [
        ("Replay the call under the debugger", f"python -m replay {quoted}"),
        ("Open the captured frames, as they were", f"python -m replay {quoted} --frames"),
        ("Re-run it against today's code", f"python -m replay check {quoted}"),
        ("Everything in text (nothing unpickled)", f"python -m replay info {quoted}"),
    ]
    items = "".join(f"<p>{label}:<code>{text(command)}</code></p>" for label, command in rows)
    link = (
        f'<p><a href="{text(href)}" download rel="nofollow noopener">Download the snapshot</a></p>'
        if href is not None
        else ""
    )
    return f'<section id="commands" class="cmds"><h2>Replay it</h2>{link}{items}</section>'


def _header(model: Manifest) -> str:
    parts = []
    if model.death is not None:
        parts.append(f'<h1><span class="etype">Worker died</span>: {text(death_label(model))}</h1>')
    elif model.error is not None:
        first = (model.error.message or "").strip("\n").split("\n")[0]
        parts.append(
            f'<h1><span class="etype">{text(model.error.type or "?")}</span>: {text(first, limit=300)}</h1>'
        )
    else:
        parts.append(f"<h1>{text(_on_demand_title(model) or 'Snapshot')}</h1>")
    task = model.task
    facts: list[str] = []
    if task is not None and task.key is not None:
        facts.append(f"task <code>{text(format_key(task.key))}</code>")
    if model.error is not None and (call := failing_call(model)) is not None:
        facts.append(f"in your code <code>{text(call, limit=300)}</code>")
    origin = model.origin
    if origin is not None:
        if origin.worker:
            facts.append(f"worker <code>{text(origin.worker)}</code>")
        if origin.host:
            facts.append(f"host <code>{text(origin.host)}</code>")
    if model.created:
        facts.append(f"at {text(model.created)}")
    if facts:
        parts.append(f'<p class="meta">{", ".join(facts)}</p>')
    return "".join(parts)


def page_body(
    model: Manifest,
    read: Any,
    name: str,
    href: str | None,
    *,
    folded: bool = False,
) -> str:
    """The page's content (no document around it): every section, escaped."""
    finder = SourceFinder(model, read)
    return "".join(
        (
            _header(model),
            problems_section(model),
            death_section(model),
            error_section(model),
            _on_demand_section(model),
            frames_section(model, finder, folded=folded),
            call_section(model),
            capture_section(model),
            traceback_section(model),
            _commands(name, href),
            environment_section(model),
            '<p class="note">Rendered from the manifest and the captured sources by '
            "dask-replay; nothing in the file was unpickled.</p>",
        )
    )
