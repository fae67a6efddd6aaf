"""The snapshot directory: created owner-only, cleared of dead writers' temporary files.

Snapshots hold production data: every directory the capture creates is 0700,
parents included, whatever the umask.  A process killed mid-write (the nanny's
SIGKILL, the OOM killer) leaves its ``.partial`` temporary file behind; such
files count against ``snapshot.max-directory-size`` forever unless someone
removes them.  A Capturer removes them when it starts, but only those whose
writer is certainly gone: the writer's pid, which the file name carries, is no
live process on this host, or the file has not been touched for a day (a
writer on another host of a shared directory).  A live writer's file is never
removed.
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
#: A temporary file untouched this long is stale even if its pid looks alive.
STALE_AFTER = 24 * 3600.0
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
# ".<stamp>-<key>-<host>-<pid>-<hex>.tar.zst.<random>.partial" (storm.new_path,
# then the writer's mkstemp beside the target).
_PARTIAL = re.compile(r"^\.(?P<head>.+)-(?P<pid>\d+)-[0-9a-f]+\.tar\.zst\..*\.partial$")


def make_private_dirs(path: Path) -> None:
    """``mkdir -p path`` with every directory it creates 0700 (umask notwithstanding)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # another worker process made it first
        os.chmod(directory, 0o700)


def host_slug(host: str | None = None) -> str:
    """The host as snapshot file names spell it."""
    return _SLUG.sub("_", host or socket.gethostname())[:40]


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a pid we can judge: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def remove_stale_partials(directory: Path, *, host: str | None = None) -> list[Path]:
    """Delete the temporary files of writers that are gone; return what was removed."""
    here = host_slug(host)
    now = time.time()
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.endswith(PARTIAL_SUFFIX):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        match = _PARTIAL.match(entry.name)
        dead = False
        if match is not None and match["head"].endswith("-" + here):
            pid = int(match["pid"])
            dead = pid != os.getpid() and not _pid_alive(pid)
        if dead or age > STALE_AFTER:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed
