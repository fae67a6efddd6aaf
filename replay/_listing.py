"""``python -m replay list DIR``: the snapshots in a directory, newest first.

Only manifests are read (``snapshot.read_manifest``), so listing costs the same
for a 1 KiB and a 10 GiB snapshot and never unpickles anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import snapshot

from ._info import format_size, task_key

__all__ = ["SnapshotEntry", "format_entry", "scan_directory"]


@dataclass(frozen=True)
class SnapshotEntry:
    """One snapshot found in a directory."""

    path: str
    size: int
    manifest: dict[str, Any]

    @property
    def created(self) -> str:
        return str(self.manifest.get("created", ""))


def scan_directory(directory: str) -> tuple[list[SnapshotEntry], list[str]]:
    """Return the snapshots in ``directory`` (newest first) and the files skipped.

    Raises :class:`snapshot.SnapshotNotFoundError` when ``directory`` does not exist.
    """
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError as exc:
        raise snapshot.SnapshotNotFoundError(
            f"{directory}: no such directory; give the directory cluster_hook writes to "
            "(the snapshot.directory setting)",
            path=directory,
        ) from exc
    except NotADirectoryError as exc:
        raise snapshot.SnapshotReadError(
            f"{directory}: not a directory; `python -m replay info {directory}` describes "
            "one snapshot",
            path=directory,
        ) from exc
    except OSError as exc:
        raise snapshot.SnapshotReadError(
            f"{directory}: cannot list it: {exc.strerror or exc}", path=directory
        ) from exc
    entries: list[SnapshotEntry] = []
    skipped: list[str] = []
    for name in names:
        path = os.path.join(directory, name)
        # Hidden names are the writer's temporary files (see snapshot's atomic write).
        if name.startswith(".") or not os.path.isfile(path):
            continue
        try:
            manifest = snapshot.read_manifest(path)
            size = os.path.getsize(path)
        except (snapshot.SnapshotError, OSError):
            skipped.append(path)
            continue
        entries.append(SnapshotEntry(path, size, manifest))
    entries.sort(key=lambda entry: entry.created, reverse=True)
    return entries, skipped


def format_entry(entry: SnapshotEntry) -> str:
    """``created  size  task key  Error: message  path`` on one line."""
    manifest = entry.manifest
    error = manifest.get("error") or {}
    message = " ".join(str(error.get("message", "")).split())
    if len(message) > 60:
        message = message[:57] + "..."
    created = entry.created.replace("T", " ")[:19]
    what = f"{error.get('type', '?')}: {message}" if message else str(error.get("type", "?"))
    return f"{created:19}  {format_size(entry.size):>9}  {task_key(manifest)}  {what}  {entry.path}"
