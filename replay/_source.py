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
from collections.abc import Mapping

__all__ = ["install_sources", "source_lines"]


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
