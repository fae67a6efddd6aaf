"""Captured source text made visible to debuggers through ``linecache``.

Debuggers (pdb, ipdb, pudb) and ``traceback`` read source lines through
``linecache``.  A file the snapshot holds but this machine lacks is put into
``linecache.cache`` with an mtime of ``None``, the marker ``linecache.checkcache``
uses for sources that did not come from disk, so it is never evicted.  A file
that exists here is left alone: the debugger shows the local file, and a
warning says when it differs from the captured one.
"""

from __future__ import annotations

import linecache
import os
import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["DYNAMIC_CODE", "find_dynamic_source", "install_sources", "source_lines"]

#: The file name cloudpickle gives every function it pickles by value (defined in
#: ``__main__`` or a notebook): their source never travels with them.
DYNAMIC_CODE = "<dynamic-code>"

_MAX_CANDIDATES = 200
_MAX_CANDIDATE_BYTES = 4 * 1024 * 1024
# A decorated function's code starts at its first decorator: look a little further.
_DECORATOR_SLACK = 20


def source_lines(text: str) -> list[str]:
    """Split ``text`` into ``linecache``-style lines, each ending in a newline."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def install_sources(sources: Mapping[str, str]) -> list[str]:
    """Make every captured source readable through ``linecache``.

    Returns one warning per local file that differs from the captured one.
    """
    warnings: list[str] = []
    for filename, text in sources.items():
        captured = source_lines(text)
        if _is_real_file(filename):
            local = _read_local(filename)
            if local is not None and local != captured:
                warnings.append(
                    f"{filename} differs from the source captured on the worker; "
                    "the debugger shows this machine's file (the worker's traceback in "
                    "`python -m replay info` shows the lines as they were)."
                )
            if local is not None:
                continue
        linecache.cache[filename] = (len(text), None, captured, filename)
    return warnings


def _is_real_file(filename: str) -> bool:
    if filename.startswith("<") and filename.endswith(">"):
        return False
    return os.path.isfile(filename)


def _read_local(filename: str) -> list[str] | None:
    try:
        with open(filename, encoding="utf-8") as fh:
            return source_lines(fh.read())
    except (OSError, UnicodeDecodeError):
        return None


def find_dynamic_source(
    functions: Sequence[tuple[str, int]], candidates: Iterable[str]
) -> tuple[str, str] | None:
    """The first candidate file that defines every ``(name, first line)`` there.

    cloudpickle keeps a by-value function's line numbers but not its file, so
    the user's own script, which defines ``recip`` exactly at the captured
    first line, is recognised by that alone.  Returns ``(path, text)``.
    """
    if not functions:
        return None
    for count, path in enumerate(candidates):
        if count >= _MAX_CANDIDATES:
            break
        try:
            if os.path.getsize(path) > _MAX_CANDIDATE_BYTES:
                continue
        except OSError:
            continue
        lines = _read_local(path)
        if lines and all(_defines(lines, name, first) for name, first in functions):
            return path, "".join(lines)
    return None


def python_files(directory: str) -> list[str]:
    """The ``*.py`` files directly in ``directory``, sorted (the default candidates)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names if n.endswith(".py")]


def _defines(lines: list[str], name: str, first: int) -> bool:
    pattern = re.compile(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*[(\[]")
    window = lines[max(first - 1, 0) : first - 1 + _DECORATOR_SLACK]
    return any(pattern.match(line) for line in window)
