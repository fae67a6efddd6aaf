"""Text from a snapshot made safe to show on a terminal.

Every string a snapshot holds (the exception message, the task key, file and
function names, the traceback text, the file's own name) is its author's
choice, and a terminal obeys what it is sent: ESC and CSI sequences move the
cursor, erase lines and set the title; bidi overrides reverse what is read.
:func:`for_terminal` is the one function through which such text is printed:
it escapes what a terminal would act on, as ``less``, ``git`` and ``ls`` do,
and caps its length.  ``--json`` output needs none of this: ``json.dumps``
escapes every control character and keeps everything.
"""

from __future__ import annotations

import io
from typing import TextIO

from snapshot import escape_code, shown_as_is

__all__ = [
    "FIELD_LIMIT",
    "TEXT_LIMIT",
    "for_terminal",
    "source_text",
    "terminal_lines",
    "tolerant",
]

#: Characters of one displayed field (a message, a repr, a name) before it is cut.
FIELD_LIMIT = 4000
#: Characters of a multi-line text (a traceback) before it is cut.
TEXT_LIMIT = 50_000

# A tab and a newline keep their meaning in a multi-line text; which other
# characters are shown as themselves is snapshot's one rule (shown_as_is).
_KEPT_IN_TEXT = "\t"


def for_terminal(value: object, *, one_line: bool = False, limit: int | None = None) -> str:
    """``value`` as text a terminal shows literally, never acts on.

    Control, C1, bidi and other format characters become escapes (``\\x1b``,
    ``\\u202e``); a lone surrogate becomes ``\\ud800`` and never raises.
    ``one_line`` escapes newlines and tabs too (a list entry, a file name);
    otherwise the text keeps its lines.  Text longer than ``limit`` characters
    (default :data:`FIELD_LIMIT` for one line, :data:`TEXT_LIMIT` otherwise;
    ``0`` for no limit) is cut, with a marker saying how many were cut.
    """
    text = value if isinstance(value, str) else _as_text(value)
    cap = limit if limit is not None else FIELD_LIMIT if one_line else TEXT_LIMIT
    cut = len(text) - cap if cap and len(text) > cap else 0
    if cut:
        text = text[:cap]
    if one_line:
        shown = text if text.isprintable() else _escape(text, "")
    else:
        shown = "\n".join(
            line if line.isprintable() else _escape(line, _KEPT_IN_TEXT)
            for line in text.split("\n")
        )
    return shown + f" [... {cut:,} more characters cut]" if cut else shown


def terminal_lines(text: object, limit: int = TEXT_LIMIT) -> list[str]:
    """A multi-line text (a traceback) as lines for a terminal, each escaped on its own.

    Each line is cut at :data:`FIELD_LIMIT`; once ``limit`` characters have
    been shown, one last line says how many lines were left out.
    """
    lines = (text if isinstance(text, str) else _as_text(text)).rstrip("\n").split("\n")
    shown: list[str] = []
    total = 0
    for index, line in enumerate(lines):
        if total > limit:
            shown.append(f"[... {len(lines) - index:,} more lines cut]")
            break
        total += len(line) + 1
        shown.append(for_terminal(line, limit=FIELD_LIMIT))  # a tab stays a tab
    return shown


def source_text(text: str) -> str:
    """Source text whose every line a terminal shows literally (line breaks: ``\\n`` only).

    What a debugger shows of a source from the snapshot goes through this; a
    genuine file's lines are unchanged.
    """
    return for_terminal(text.replace("\r\n", "\n"), limit=0)


def _escape(text: str, kept: str) -> str:
    return "".join(char if shown_as_is(char, kept) else escape_code(char) for char in text)


def _as_text(value: object) -> str:
    """``str(value)`` that cannot fail: a 5,000-digit int or a broken ``__str__`` included."""
    try:
        return str(value)
    except ValueError:
        if isinstance(value, int):  # over sys.get_int_max_str_digits()
            return f"<an integer of {value.bit_length():,} bits>"
        return f"<{type(value).__name__}>"
    except Exception:
        return f"<{type(value).__name__}>"


def tolerant(stream: TextIO) -> TextIO:
    """``stream``, made to write what its encoding cannot hold as backslash escapes.

    A terminal on an ASCII or strict UTF-8 locale then shows a non-ASCII name
    or a lone surrogate as ``\\u00e9`` / ``\\udc80`` instead of failing the
    whole command with ``UnicodeEncodeError``.  The stream is reconfigured in
    place where it can be (``sys.stdout``); a stream that cannot be is returned
    as is: the text this package writes is escaped already.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    if isinstance(stream, io.TextIOWrapper) and reconfigure is not None:
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # closed, or detached
            pass
    return stream
