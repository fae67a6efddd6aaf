"""Snapshot files by name, inside the configured directories only, never through a link.

A name comes from an HTTP request: it must look like a snapshot's file name
(``NAME``: no separator, no leading dot, the snapshot suffix), and the file
is opened with ``O_NOFOLLOW`` inside one of the directories given, must be a
regular file with a single link, and is read in bounded chunks.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from snapshot import SNAPSHOT_SUFFIX

#: What a snapshot's file name may look like (what ``StormGuard.new_path`` writes).
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,250}" + re.escape(SNAPSHOT_SUFFIX))
#: The largest chunk one read returns.
MAX_CHUNK = 4 * 2**20


class NotHere(Exception):
    """The name is not a snapshot file of these directories (the message says why)."""


def valid_name(name: object) -> bool:
    """Whether ``name`` is a snapshot file name: no path, no traversal, our suffix."""
    return isinstance(name, str) and NAME.fullmatch(name) is not None and ".." not in name


def open_in(directories: Sequence[Path], name: str) -> int:
    """A read-only descriptor of ``name`` in the first of ``directories`` holding it.

    Raises :class:`NotHere` for a bad name, a missing file, a link or anything
    but a regular file.
    """
    if not valid_name(name):
        raise NotHere(f"{name!r} is not a snapshot file name")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    why = "no configured snapshot directory holds it"
    for directory in directories:
        try:
            fd = os.open(Path(directory) / name, flags | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            continue
        except OSError as err:  # ELOOP: a symbolic link; EACCES, ...
            why = f"it cannot be opened safely ({err.strerror})"
            continue
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            why = "it is not a plain file"
            continue
        return fd
    raise NotHere(f"{name}: {why}")


def read_chunk(directories: Sequence[Path], name: str, offset: int, length: int) -> bytes:
    """At most ``min(length, MAX_CHUNK)`` bytes of ``name`` from ``offset``."""
    if type(offset) is not int or type(length) is not int or offset < 0 or length <= 0:
        raise NotHere(f"{name}: a bad range ({offset!r}, {length!r})")
    fd = open_in(directories, name)
    try:
        return os.pread(fd, min(length, MAX_CHUNK), offset)
    finally:
        os.close(fd)
