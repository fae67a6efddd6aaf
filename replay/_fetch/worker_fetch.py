"""Fetching a snapshot from the worker's host while its cluster is up.

The hook's note names ``HOST:PATH``.  When that file is not on this machine
and a live client is at hand (the future's own, or the default client), one
of the workers on ``HOST`` reads it in chunks of at most 8 MiB through
``Client.run``; it lands in the client directory, as the client part's copies
do.  The worker-side functions live here, so workers import them from
dask-replay (installed there for the hook), never pickled by value.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

from .client_copies import client_directories

__all__ = ["default_client", "fetch_from_workers"]

CHUNK_BYTES = 8 * 1024 * 1024
_SUFFIX = ".tar.zst"


def default_client() -> Any:
    """distributed's default client when distributed is already imported and one runs."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import default_client as current

        return current()
    except Exception:  # no client (ValueError), or distributed half-imported
        return None


def fetch_from_workers(client: Any, host: str, path: str) -> str | None:
    """Copy ``path`` from a worker on ``host`` here; the local copy's path, or None."""
    name = os.path.basename(path)
    if (
        client is None
        or getattr(client, "status", None) != "running"
        or getattr(client, "asynchronous", True)
        or not name.endswith(_SUFFIX)
        or name.startswith(".")
    ):
        return None
    try:
        sizes = client.run(_size_if_here, host, path)
    except Exception:
        return None
    holders = [(w, s) for w, s in sizes.items() if isinstance(s, int)]
    if not holders:
        return None
    worker, size = holders[0]
    if size > _max_bytes():
        return None
    directory = client_directories()[0]
    target = directory / name
    partial = directory / f".{name}.fetched"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(partial, "wb") as fh:
            os.chmod(partial, 0o600)
            offset = 0
            while offset < size:
                chunk = client.run(_read_range, path, offset, CHUNK_BYTES, workers=[worker])
                data = chunk.get(worker)
                if not data:
                    break
                fh.write(data)
                offset += len(data)
        os.replace(partial, target)
    except Exception:
        Path(partial).unlink(missing_ok=True)
        return None
    return str(target)


def _max_bytes() -> int:
    try:
        import dask.config
        from dask.utils import parse_bytes

        return int(parse_bytes(dask.config.get("snapshot.client-max-size", default="2 GiB")))
    except Exception:
        return 2 * 1024**3


def _size_if_here(host: str, path: str) -> int | None:
    """Runs on a worker: the size of the snapshot ``path`` if this is ``host`` and it is there."""
    if socket.gethostname() != host or not path.endswith(_SUFFIX):
        return None
    try:
        return os.stat(path).st_size if os.path.isfile(path) else None
    except OSError:
        return None


def _read_range(path: str, offset: int, size: int) -> bytes:
    """Runs on a worker: at most ``size`` (<= 8 MiB) bytes of ``path`` from ``offset``."""
    if not path.endswith(_SUFFIX):
        return b""
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(min(size, CHUNK_BYTES))
