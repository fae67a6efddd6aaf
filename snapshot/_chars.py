"""The one rule for which characters of a snapshot's strings are shown as themselves.

Every string in a snapshot is its author's choice, and a terminal or a page
reader acts on some characters: ESC sequences, bidi overrides, line
separators.  A character is shown as itself when :meth:`str.isprintable`
accepts it, when the caller keeps it (a newline and a tab in multi-line
text), or when it is a Unicode space beyond ASCII (U+00A0, U+3000 ...), which
only shows as space; everything else (C0 and C1 controls, DEL, vertical tab
and form feed, format characters, separators, lone surrogates, private-use
and unassigned code points) is shown as its escape, ``\\x1b`` or ``\\u202e``.
The terminal (``replay``'s ``for_terminal``) and the HTML page
(``snapshot.html_text``) both follow it.
"""

from __future__ import annotations

__all__ = ["escape_code", "shown_as_is"]

#: Characters ``str.isspace`` accepts that still end or move lines.
_NOT_SPACES = "\x1c\x1d\x1e\x1f\x85\u2028\u2029"


def shown_as_is(char: str, kept: str = "") -> bool:
    """Whether ``char`` is shown as itself (``kept``: what the caller keeps, e.g. ``"\\n\\t"``)."""
    return (
        char.isprintable()
        or char in kept
        or (char > "\x7f" and char.isspace() and char not in _NOT_SPACES)
    )


def escape_code(char: str) -> str:
    """The escape a character is shown as: ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
