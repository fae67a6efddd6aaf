"""The lines a debugger shows for live frames: only text that compiles to the code that ran.

A re-run's frames are real: pdb and ``traceback`` read their files through
``linecache``, from disk.  In a long-lived process (a notebook kernel, a
script that imported the module before its file was edited) the code that
runs is the one imported then, and the file on disk may say something else:
its line 3 may be blank.  :func:`verified_lines` checks each file of a
traceback against the frames' own code objects (``snapshot.code_sha256``: the
file's text must compile to a code object with the same hash and first line)
and, for the duration of the ``with`` block, makes ``linecache`` give either
the captured text when that one compiles to the code that ran, or nothing.
``linecache.checkcache`` leaves entries without an mtime alone, and the old
entries are put back afterwards.

:func:`frozen_frames` does the same for frames captured on the worker that a
debugger opens later (IPython's ``%debug``, after the cell): the verified
text is copied under a name of its own at once, so a file edited in between
cannot move the arrow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import linecache
import os
import sysconfig
import types
from collections.abc import Iterator, Mapping, Sequence

from snapshot import code_objects, code_sha256

from .._frames import CapturedFrame
from .report import register

__all__ = ["frozen_frames", "verified_lines"]

_FROZEN = " (at the failure)"


def _defines(text: str | None, code: types.CodeType) -> bool:
    """Does ``text``, compiled as a file, hold ``code`` (same hash, same first line)?"""
    if text is None:
        return False
    try:
        unit = compile(text, code.co_filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    wanted = code_sha256(code)
    return any(
        c.co_name == code.co_name
        and c.co_firstlineno == code.co_firstlineno
        and code_sha256(c) == wanted
        for c in code_objects(unit)
    )


def _disk_text(filename: str) -> str | None:
    try:
        with open(filename, encoding="utf-8", errors="surrogateescape") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def verified_lines(
    tb: types.TracebackType | None, captured: Mapping[str, str]
) -> Iterator[list[str]]:
    """Within the block, ``linecache`` shows only verified text for ``tb``'s files.

    ``captured`` holds the snapshot's source texts by file name.  Yields the
    notes to print: one per file whose text here is not the code that ran.
    """
    notes: list[str] = []
    saved: dict[str, tuple[int, float | None, list[str], str] | None] = {}
    checked: set[str] = set()
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        tb = tb.tb_next
        if filename in checked or filename.startswith("<") or not os.path.isfile(filename):
            continue
        checked.add(filename)
        entry = linecache.cache.get(filename)
        if entry is not None and len(entry) > 1 and entry[1] is None:
            continue  # registered by replay (a verified text) or by a loader: not from disk
        if _defines(_disk_text(filename), code):
            continue
        text = captured.get(filename)
        shown = text if _defines(text, code) else None
        saved[filename] = linecache.cache.get(filename)  # type: ignore[assignment]
        lines = (shown or "").splitlines(True)
        linecache.cache[filename] = (len(shown or ""), None, lines, filename)
        notes.append(
            f"Note: {filename} here is not the code that ran in {code.co_name}() (it changed "
            "since it was imported, or differs from the module loaded): the debugger shows "
            + ("the source captured on the worker, which is that code." if shown else "no lines.")
        )
    try:
        yield notes
    finally:
        for filename, entry in saved.items():
            if entry is None:
                linecache.cache.pop(filename, None)
            else:
                linecache.cache[filename] = entry


def _installed(filename: str) -> bool:
    """Is ``filename`` in the standard library or an installed package (not edited by hand)?"""
    path = os.path.realpath(filename)
    roots = {os.path.realpath(p) for k, p in sysconfig.get_paths().items() if k.endswith("lib")}
    return any(path.startswith(root + os.sep) for root in roots)


def frozen_frames(frames: Sequence[CapturedFrame]) -> list[CapturedFrame]:
    """``frames`` with each file read from disk now registered under a name of its own
    (the standard library's and installed packages' files keep their names)."""
    frozen: dict[str, str] = {}
    out = []
    for frame in frames:
        name = frame.filename
        if name not in frozen and os.path.isfile(name) and not _installed(name):
            entry = linecache.cache.get(name)
            if entry is not None and len(entry) > 1 and entry[1] is None:
                frozen[name] = name  # already a registered, verified text
            else:
                lines = linecache.getlines(name)
                frozen[name] = name + _FROZEN if lines else name
                if lines:
                    register(name + _FROZEN, "".join(lines))
        shown = frozen.get(name, name)
        out.append(frame if shown == name else dataclasses.replace(frame, filename=shown))
    return out
