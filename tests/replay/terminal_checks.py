"""What may reach a terminal: the check every escape and fuzz test applies to output."""

from __future__ import annotations

import unicodedata

# Categories a terminal may act on, or that hide or reorder text: controls,
# format characters (bidi, zero-width), separators, surrogates, private and
# unassigned code points.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def unsafe_characters(text: str, *, one_line: bool = False) -> list[str]:
    """The characters of ``text`` a terminal must not receive, as escapes."""
    allowed = "" if one_line else "\n\t"
    return sorted(
        {
            ascii(char)
            for char in text
            if char not in allowed and unicodedata.category(char) in _FORBIDDEN_CATEGORIES
        }
    )


def unsafe_bytes(data: bytes) -> list[str]:
    """The bytes (C0 but newline and tab, DEL) and decoded characters (C1, bidi,
    format) of a command's raw output that must not reach a terminal."""
    bad = sorted({f"0x{b:02x}" for b in data if (b < 0x20 and b not in b"\n\t") or b == 0x7F})
    return bad + unsafe_characters(data.decode("utf-8", "replace").replace("\ufffd", ""))
