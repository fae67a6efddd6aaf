"""A captured value as the page shows it: its type, size and repr, read from its piece record.

A repr of several lines (a Series, a DataFrame, an array) is a preformatted
block; a long one is folded behind its first line.  Nothing is unpickled:
the repr is the one the writer recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._model.labels import format_size
from .._model.manifest import Manifest, PieceRecord
from .escape import text

__all__ = ["MAX_ENTRIES", "piece_cells", "value_rows"]

#: Entries shown per list (frames, locals, arguments, inputs, packages).
MAX_ENTRIES = 200
#: A repr longer than this many lines or characters is folded behind its first line.
FOLD_LINES = 12
FOLD_CHARS = 1500


def _repr_html(value: str) -> str:
    body = value.strip("\n")
    lines = body.split("\n")
    if len(lines) == 1 and len(body) <= 160:
        return f"<code>{text(body)}</code>"
    block = f'<pre class="wrap">{text(body, multiline=True, limit=40_000)}</pre>'
    if len(lines) <= FOLD_LINES and len(body) <= FOLD_CHARS:
        return block
    first = text(lines[0][:120] or "…")
    more = f"{len(lines):,} lines" if len(lines) > 1 else f"{len(body):,} characters"
    return f"<details><summary><code>{first}</code> … ({more})</summary>{block}</details>"


def _kind(record: PieceRecord) -> str:
    parts = [text(record.type or "?")]
    summary = record.summary
    if summary is not None:
        if summary.shape is not None:
            parts.append("shape " + text("(" + ", ".join(str(n) for n in summary.shape) + ")"))
        if summary.dtype is not None:
            parts.append(text(summary.dtype))
    return ", ".join(parts)


def piece_cells(model: Manifest, pid: object) -> tuple[str, str, str]:
    """``(type, size or status, repr)`` cells of the piece ``pid``, escaped."""
    record = model.piece(pid) if isinstance(pid, str) else None
    if record is None:
        return "?", "?", f'<span class="note">no record of piece {text(repr(pid))}</span>'
    if record.status == "stored":
        size = format_size(record.size)
    else:
        size = f"{text(record.status or '?')}: {text(record.reason or '')}"
    shown = _repr_html(record.repr) if record.repr else '<span class="note">(no repr)</span>'
    return _kind(record), size, shown


def value_rows(model: Manifest, entries: Iterable[tuple[str, object]], total: int) -> str:
    """A table of ``name | type | size | repr`` rows, at most :data:`MAX_ENTRIES` of them."""
    rows = []
    for index, (name, pid) in enumerate(entries):
        if index >= MAX_ENTRIES:
            break
        kind, size, shown = piece_cells(model, pid)
        rows.append(
            f"<tr><th><code>{text(name, limit=300)}</code></th><td>{kind}</td><td>{size}</td>"
            f"<td>{shown}</td></tr>"
        )
    if total > MAX_ENTRIES:
        rows.append(
            f'<tr><td colspan="4" class="note">… and {total - MAX_ENTRIES:,} more '
            "(<code>python -m replay info --json</code> has all)</td></tr>"
        )
    if not rows:
        return '<p class="note">(none recorded)</p>'
    return (
        '<table class="vars"><tr><th>name</th><th>type</th><th>size</th><th>value</th></tr>'
        + "".join(rows)
        + "</table>"
    )
