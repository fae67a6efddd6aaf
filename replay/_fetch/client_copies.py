"""The copies the hook's client part keeps, found by name or by the key of a future.

The client part (``cluster_hook._client``) keeps a copy of each snapshot of its
failures under ``snapshot.client-directory`` and, beside it, the keys of the
client's futures that failed because of it (``.NAME.keys.json``).  A file named
by a note but not on this machine is looked for there by name; a future whose
client is closed (distributed then cancels it, and it forgets its exception)
by its key.
"""

from __future__ import annotations

import os
from pathlib import Path

import snapshot
from snapshot import KEYS_SUFFIX, copy_of_keys_file, default_client_directory, read_keys

__all__ = ["client_copy", "client_directories", "copy_for_key"]

#: At most this many ``.keys.json`` files are read when looking a key up.
_MAX_KEY_FILES = 10_000


def client_directories() -> list[Path]:
    """``snapshot.client-directory`` (from Dask's config when dask is here), then its default."""
    directories = [default_client_directory()]
    try:
        import dask.config  # only now: importing replay imports no dask

        configured = dask.config.get("snapshot.client-directory", default=None)
    except ImportError:
        configured = None
    if configured:
        chosen = Path(os.path.expandvars(os.path.expanduser(str(configured))))
        if chosen not in directories:
            directories.insert(0, chosen)
    return directories


def client_copy(path: str) -> str | None:
    """The copy the client part keeps of the snapshot at ``path``, if one is here."""
    name = os.path.basename(path)
    if not name:
        return None
    for directory in client_directories():
        candidate = directory / name
        if candidate.is_file():
            return str(candidate)
    return None


def copy_for_key(key: object) -> str | None:
    """The newest client copy of the failure that made the future ``key`` fail, if any."""
    wanted = snapshot.key_to_json(key)
    best: tuple[float, str] | None = None
    for directory in client_directories():
        try:
            entries = [e for e in os.scandir(directory) if e.name.endswith(KEYS_SUFFIX)]
        except OSError:
            continue
        for entry in entries[:_MAX_KEY_FILES]:
            name = copy_of_keys_file(entry.name)
            if name is None or wanted not in read_keys(entry.path):
                continue
            copy = directory / name
            try:
                mtime = copy.stat().st_mtime
            except OSError:
                continue  # pruned since
            if best is None or mtime > best[0]:
                best = (mtime, str(copy))
    return best[1] if best else None
