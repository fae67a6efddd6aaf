"""How a :class:`~replay.Replay` shows itself in IPython and Jupyter: what ``info`` shows.

``text`` is the text of ``python -m replay info`` (the error, the call, the
inputs with their types and sizes, the frames, the capture report, the
modules), every field from the file escaped for a terminal; ``html`` is the
same for a notebook, a table of the essentials above the full text, every
string through :func:`html.escape` as well.  Nothing is unpickled.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .summary import Signature, describe, error_line, task_key

if TYPE_CHECKING:
    from .._session import Replay

__all__ = ["html_text", "pretty_text"]


def pretty_text(session: Replay) -> str:
    """The text ``info`` prints for the session's snapshot (terminal-safe)."""
    opened = session._snapshot
    try:
        size: int | None = os.path.getsize(session.path)
    except OSError:
        size = None
    imports: Mapping[str, list[str]]
    try:
        imports = opened.imports()
    except Exception:  # the module scan is a nicety here; never fail a repr
        imports = {}
    signature = Signature(signed=opened.signed, verified=opened.verified)
    return describe(session.model, session.path, size, imports, signature, opened.source).rstrip(
        "\n"
    )


def html_text(session: Replay) -> str:
    """An HTML fragment: task, error and where above the full ``info`` text, escaped."""
    model = session.model
    frames = model.frames
    where = "?"
    if frames:
        last = frames[-1]
        where = f"{last.filename or '?'}:{last.lineno or '?'} in {last.function or '?'}"
    rows = [
        ("snapshot", session.path),
        ("task", task_key(model)),
        ("error", error_line(model)),
        ("where", where),
    ]
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
        f"<td style='text-align:left'><code>{html.escape(str(value))}</code></td></tr>"
        for name, value in rows
    )
    return (
        "<div class='dask-replay'><b>Replay</b>"
        f"<table>{body}</table>"
        "<details><summary>info</summary>"
        f"<pre>{html.escape(pretty_text(session))}</pre></details></div>"
    )
