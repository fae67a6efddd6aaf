"""Strings from a snapshot as inert HTML: escaped, cut, and with what a reader cannot see shown.

Every string in a snapshot is its author's choice.  :func:`text` escapes
``& < > " '`` (so no string can open a tag, close a ``<pre>`` or leave an
attribute), and shows each character the one rule of :mod:`snapshot._chars`
does not show as itself (controls, bidi overrides, format characters,
separators, lone surrogates ...) as a visible escape such as ``\\u202e``,
marked with the ``ctl`` class, so that a bidi override cannot reverse what the
reader sees.  Newlines and tabs stay in multi-line text only.
"""

from __future__ import annotations

import html
from typing import Final

from .._chars import escape_code, shown_as_is

__all__ = ["FIELD_LIMIT", "TEXT_LIMIT", "html_text", "text"]

#: Characters of one field (a name, a message, a repr line) before it is cut.
FIELD_LIMIT: Final = 4000
#: Characters of a multi-line text (a repr, a traceback, stacks) before it is cut.
TEXT_LIMIT: Final = 100_000


def _shown_as(char: str) -> str:
    return f'<span class="ctl">{escape_code(char)}</span>'


def text(value: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """``value`` as HTML that shows it literally; ``multiline`` keeps newlines and tabs.

    Text past ``limit`` characters (default :data:`FIELD_LIMIT` on one line,
    :data:`TEXT_LIMIT` otherwise) is cut, and the cut is said.
    """
    if isinstance(value, str):
        raw = value
    else:
        try:
            raw = str(value)
        except Exception:  # a model holds plain values; never fail a page
            raw = "?"
    cap = limit if limit is not None else TEXT_LIMIT if multiline else FIELD_LIMIT
    cut = len(raw) - cap if len(raw) > cap else 0
    if cut:
        raw = raw[:cap]
    kept = "\n\t" if multiline else ""
    if raw.isprintable():
        shown = html.escape(raw)
    else:
        parts: list[str] = []
        run: list[str] = []
        for char in raw:
            if shown_as_is(char, kept):
                run.append(char)
                continue
            if run:
                parts.append(html.escape("".join(run)))
                run.clear()
            parts.append(_shown_as(char))
        parts.append(html.escape("".join(run)))
        shown = "".join(parts)
    if cut:
        shown += f' <span class="cut">[... {cut:,} more characters cut]</span>'
    return shown


#: The public name (``snapshot.html_text``): the dashboard's list escapes with the same rule.
html_text = text
