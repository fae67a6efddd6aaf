"""The source shown for each frame: only text verified to be the code that ran, or why not.

From the file alone, nothing run: a captured text (the worker's copy of the
frame's file, or a source a client copy added) is compiled, never executed,
and accepted for a frame only when it defines the frame's code with the hash
the writer recorded, at the recorded first line (``snapshot.CompiledSource``,
the check replay's source lookup makes too).  Hashes compare only under the
same Python ``X.Y``; without a usable hash, the worker's own copy of the file
is shown when it defines the function at its first line and runs the frame's
line in it.  Anything else is "source unknown", with the reason: a page that
points at the wrong line is worse than one that shows none.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .._byvalue import DYNAMIC_CODE
from .._codehash import CompiledSource, same_bytecode
from .._model.manifest import Frame, Manifest

__all__ = ["CONTEXT", "Shown", "SourceFinder", "Unknown"]

#: Lines shown before and after the line that ran.
CONTEXT = 5
#: Texts compiled for one page, and their characters: a crafted file with
#: thousands of sources costs a bounded amount; past it, frames say so.
MAX_COMPILED = 64
MAX_COMPILED_CHARS = 16_000_000
# Python ends a line at \r\n, \r or \n, and nowhere else: str.splitlines would
# also split at \x0c, \x1c or U+2028 and show every later line one off.
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Shown:
    """Lines ``start``.. of ``filename``'s verified text; ``arrow`` is the line that ran."""

    filename: str
    lines: tuple[str, ...]
    start: int
    arrow: int
    how: str


@dataclass(frozen=True)
class Unknown:
    why: str


def _python_matches(model: Manifest) -> tuple[bool, str]:
    python = model.environment.python if model.environment is not None else None
    version = python.version if python is not None else None
    if same_bytecode(version):
        return True, ""
    if not isinstance(version, str):
        return False, "the snapshot does not record its Python version"
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    recorded = ".".join(version.split(".")[:2])
    return False, f"it ran under Python {recorded}, whose bytecode differs from {here}'s"


class SourceFinder:
    """Verified source for the frames of one snapshot; ``read`` gives a captured text by name."""

    def __init__(self, model: Manifest, read: Callable[[str], str | None]) -> None:
        self._read = read
        self._compiled: dict[str, CompiledSource | None] = {}
        self._texts: dict[str, str | None] = {}
        self._chars = 0
        self._same_python, self._python_note = _python_matches(model)
        amended = model.amended.sources if model.amended is not None else ()
        self._added = tuple(name for name in amended if isinstance(name, str))

    def _text(self, name: str) -> str | None:
        if name not in self._texts:
            try:
                self._texts[name] = self._read(name)
            except Exception:  # a member that cannot be read is a source not shown
                self._texts[name] = None
        return self._texts[name]

    def _compile(self, name: str, text: str) -> CompiledSource | None:
        if name not in self._compiled:
            if len(self._compiled) >= MAX_COMPILED or self._chars + len(text) > MAX_COMPILED_CHARS:
                return None
            self._chars += len(text)
            self._compiled[name] = CompiledSource(text, name)
        return self._compiled[name]

    def frame(self, frame: Frame) -> Shown | Unknown:
        lineno, first, function = frame.lineno, frame.firstlineno, frame.function
        if not isinstance(lineno, int) or lineno < 1 or not function:
            return Unknown("the snapshot records no line or function for this frame")
        own = frame.source if isinstance(frame.source, str) else None
        sha = frame.code_sha256
        if sha and isinstance(first, int) and self._same_python:
            return self._by_hash(own, function, first, lineno, sha, _hint(frame))
        note = "the snapshot records no code hash for it" if not sha else self._python_note
        if own is None:
            return Unknown(f"no source was captured for it ({note})" + _hint(frame))
        text = self._text(own)
        if text is None:
            return Unknown(f"its captured source {own!r} could not be read from the file")
        compiled = self._compile(own, text)
        if compiled is None:
            return Unknown("not checked: this page's budget for compiling sources was spent")
        if not compiled.compiles:
            return Unknown(f"the captured copy of {own} does not compile here")
        if not compiled.runs(function, first, lineno):
            return Unknown(
                f"the captured copy of {own} does not run line {lineno} in a {function}() "
                f"there (the file changed after it was imported), and {note}"
            )
        how = (
            f"the copy of this file captured on the worker; it runs line {lineno} in "
            f"{function}(), but {note}, so an edit that kept every line in place cannot be seen"
        )
        return _window(own, text, first, lineno, how)

    def _by_hash(
        self, own: str | None, function: str, first: int, lineno: int, sha: str, hint: str
    ) -> Shown | Unknown:
        candidates = ([own] if own else []) + [n for n in self._added if n != own]
        other_code: list[str] = []
        unchecked = False
        for name in candidates:
            text = self._text(name)
            if text is None:
                continue
            compiled = self._compile(name, text)
            if compiled is None:
                unchecked = True
                continue
            if first in compiled.first_lines(function, sha):
                whose = "captured on the worker" if name == own else "added by the client"
                how = f"the copy of {name} {whose}: its code matches the code that ran (code hash)"
                return _window(name, text, first, lineno, how)
            if function in compiled.names():
                other_code.append(name)
        if other_code:
            return Unknown(
                f"{', '.join(other_code[:3])} define(s) a {function}() with other code or at "
                "other lines (the file changed after the code that ran was compiled)"
            )
        if unchecked:
            return Unknown("not checked: this page's budget for compiling sources was spent")
        if not candidates:
            return Unknown("no source was captured for it" + hint)
        return Unknown("no source captured in the file defines it with the code that ran")


def _hint(frame: Frame) -> str:
    if frame.filename == DYNAMIC_CODE:
        return (
            "; its code was defined in a notebook or the client's script: the client's part "
            "of the hook (distributed.client.preload: [cluster_hook]) adds that source to a "
            "client copy"
        )
    return ""


def _window(name: str, text: str, first: int | None, lineno: int, how: str) -> Shown | Unknown:
    lines = _NEWLINE.split(text)
    if lineno > len(lines):
        return Unknown(f"{name} has {len(lines)} lines, fewer than line {lineno} that ran")
    start = first if isinstance(first, int) and 0 < first <= lineno <= first + 2 * CONTEXT else 0
    start = start or max(1, lineno - CONTEXT)
    end = min(len(lines), lineno + CONTEXT)
    return Shown(name, tuple(lines[start - 1 : end]), start, lineno, how)
