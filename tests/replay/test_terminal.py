"""``for_terminal``: what a hostile string becomes on a terminal."""

from __future__ import annotations

import io

import hypothesis
from hypothesis import strategies as st
from terminal_checks import unsafe_characters

from replay._terminal import FIELD_LIMIT, for_terminal, terminal_lines, tolerant

HOSTILE = (
    "title\x1b]0;pwned\x07 clear\x1b[2J up\x1b[1A\x1b[2K bell\x07 cr\r del\x7f "
    "csi\x9b31m rlo\u202eevil\u202c isolate\u2066x\u2069 lrm\u200e alm\u061c "
    "zwsp\u200b bom\ufeff ls\u2028ps\u2029 lone\ud800\udc80 tab\tnl\nend"
)


def test_controls_bidi_and_surrogates_are_shown_as_escapes() -> None:
    shown = for_terminal(HOSTILE)
    assert unsafe_characters(shown) == []
    for escape in (r"\x1b", r"\x07", r"\x0d", r"\x7f", r"\x9b", r"\u202e", r"\u2066", r"\u200e"):
        assert escape in shown, escape
    assert r"\u061c" in shown and r"\ufeff" in shown and r"\u2028" in shown
    assert r"\ud800" in shown and r"\udc80" in shown
    assert "tab\tnl\nend" in shown  # layout characters kept in a multi-line text
    shown.encode("utf-8")  # no lone surrogate is left to fail an encoder


def test_one_line_escapes_newlines_and_tabs_too() -> None:
    shown = for_terminal(HOSTILE, one_line=True)
    assert unsafe_characters(shown, one_line=True) == []
    assert r"tab\x09nl\x0aend" in shown


def test_printable_text_is_unchanged() -> None:
    for text in ("division by zero", "café ünïcode 数据 🐍", "a\u00a0b\u3000c", "C:\\path\\x1b"):
        assert for_terminal(text, one_line=True) == text


def test_a_long_field_is_cut_with_a_count() -> None:
    shown = for_terminal("x" * (FIELD_LIMIT + 1234), one_line=True)
    assert shown == "x" * FIELD_LIMIT + " [... 1,234 more characters cut]"
    assert for_terminal("y" * 10, limit=4) == "yyyy [... 6 more characters cut]"
    assert for_terminal("z" * 100_000, limit=0) == "z" * 100_000


def test_values_that_are_not_strings_never_raise() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert for_terminal(7) == "7"
    assert for_terminal(None) == "None"
    assert for_terminal(int("9" * 4000) * 10**1000).startswith("<an integer of ")
    assert for_terminal(Broken()) == "<Broken>"


def test_traceback_lines_are_escaped_one_by_one_and_bounded() -> None:
    text = 'Traceback (most recent call last):\n  File "x\x1b[1A", line 1\nE: \x1b[2K\n'
    lines = terminal_lines(text)
    assert lines == [
        "Traceback (most recent call last):",
        '  File "x\\x1b[1A", line 1',
        "E: \\x1b[2K",
    ]
    many = terminal_lines("line\n" * 100_000, limit=1000)
    assert len(many) < 300 and many[-1].endswith("more lines cut]")


def test_tolerant_streams_write_what_their_encoding_cannot_hold() -> None:
    raw = io.BytesIO()
    stream = tolerant(io.TextIOWrapper(raw, encoding="ascii", errors="strict"))
    stream.write("caf\u00e9 \udc80\n")
    stream.flush()
    assert raw.getvalue() == b"caf\\xe9 \\udc80\n"


@hypothesis.given(st.text(), st.booleans())
def test_no_string_gets_through_unescaped(text: str, one_line: bool) -> None:
    shown = for_terminal(text, one_line=one_line)
    assert unsafe_characters(shown, one_line=one_line) == []
    shown.encode("utf-8")
    for line in terminal_lines(text):
        assert unsafe_characters(line) == [] and "\n" not in line


def test_the_terminal_and_the_page_escape_the_same_characters() -> None:
    """One rule (snapshot's shown_as_is) for both: vertical tab and form feed included."""
    import snapshot

    for point in [*range(0x3100), *range(0xD7F0, 0xE010), 0xFEFF, 0xE0001, 0x10FFFF]:
        char = chr(point)
        on_terminal = for_terminal(char, one_line=True) != char
        on_page = 'class="ctl"' in snapshot.html_text(char)
        assert on_terminal == on_page, hex(point)
    assert snapshot.html_text("a\x0bb\x0cc").count('class="ctl"') == 2
