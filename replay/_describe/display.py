"""What a snapshot shows, rendered once: the text of ``info``, and a Replay's display in IPython.

:func:`snapshot_text` is the text of ``python -m replay info`` (the error, the
call, the inputs with their types and sizes, the frames, the capture report,
the modules, how a worker died), every field from the file escaped for a
terminal.  IPython's pretty printer shows that same text (:func:`pretty_text`);
Jupyter shows it under a table of the essentials (:func:`html_page`), every
string through :func:`html.escape` as well.  Nothing is unpickled.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .death import death_info
from .summary import Signature, error_line, info_page, task_key

if TYPE_CHECKING:
    import snapshot

__all__ = ["html_page", "pretty_text", "snapshot_text"]


def snapshot_text(
    model: snapshot.Manifest,
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
    source: Callable[[str], str | None] | None = None,
) -> str:
    """The text of ``python -m replay info``: the page, and a worker's death told after its
    header (its stacks stay at the end)."""
    return death_info(model, info_page(model, path, size, imports, signature, source))


def pretty_text(opened: snapshot.Snapshot, path: str) -> str:
    """The text ``info`` prints for the snapshot opened from ``path`` (terminal-safe)."""
    try:
        size: int | None = os.path.getsize(path)
    except OSError:
        size = None
    imports: Mapping[str, list[str]]
    try:
        imports = opened.imports()
    except Exception:  # the module scan is a nicety here; never fail a repr
        imports = {}
    signature = Signature(signed=opened.signed, verified=opened.verified)
    text = snapshot_text(opened.model, path, size, imports, signature, opened.source)
    return text.rstrip("\n")


def html_page(opened: snapshot.Snapshot, path: str) -> str:
    """An HTML fragment: task, error and where above the full ``info`` text, escaped."""
    import html  # a notebook's display only: info never needs it

    model = opened.model
    frames = model.frames
    where = "?"
    if frames:
        last = frames[-1]
        where = f"{last.filename or '?'}:{last.lineno or '?'} in {last.function or '?'}"
    rows = [
        ("snapshot", path),
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
        f"<pre>{html.escape(pretty_text(opened, path))}</pre></details></div>"
    )
