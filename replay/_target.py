"""What ``replay.load`` accepts: a path, a failed Dask ``Future``, or the exception it raised.

The hook adds a note to the exception the client gets,
``dask-replay: snapshot written to HOST:PATH``; the note is all a ``Future``
or its exception says about the snapshot.  A path on this machine (the
worker's host, or a file system both share) is opened; any other is an error
that says where the file is and how to get it.  Futures are recognised by
their shape, so that importing replay never imports distributed.  A file not
on this machine is taken from the copies the hook's client part keeps
(``snapshot.client-directory``), when it kept one.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any, Protocol

import snapshot

__all__ = ["FutureLike", "client_copy", "snapshot_path"]


class FutureLike(Protocol):
    """What ``replay.load`` uses of a ``distributed.Future``."""

    @property
    def key(self) -> Any: ...

    @property
    def status(self) -> str: ...

    def done(self) -> bool: ...

    def exception(self, timeout: Any = None, **kwargs: Any) -> Any: ...


_WRITTEN = re.compile(
    r"^dask-replay: snapshot written to (?P<host>[^:\n]*):(?P<path>[^\n]+)$", re.M
)
_NOT_WRITTEN = re.compile(r"^dask-replay: (?P<why>no snapshot[^\n]*)$", re.M)


def snapshot_path(target: str | os.PathLike[str] | BaseException | FutureLike) -> str:
    """The path of the snapshot ``target`` names; raises a :class:`snapshot.SnapshotError`."""
    if isinstance(target, (str, bytes, os.PathLike)):
        return os.fsdecode(target)
    if isinstance(target, BaseException):
        return _from_exception(target, f"{type(target).__name__}")
    if _is_future(target):
        return _from_exception(_failure_of(target), f"the future {target.key!r}")
    raise TypeError(
        "replay.load() takes the path of a snapshot, a failed dask Future, or the exception "
        f"it raised; not {type(target).__name__}"
    )


def client_copy(path: str) -> str | None:
    """The copy the hook's client part keeps of the snapshot at ``path``, if any here.

    Looked for under ``snapshot.client-directory`` (read from Dask's config
    when dask is installed here) and its default.
    """
    from snapshot._amend import default_client_directory

    directories = [default_client_directory()]
    try:
        import dask.config  # only now: importing replay imports no dask

        configured = dask.config.get("snapshot.client-directory", default=None)
    except ImportError:
        configured = None
    if configured:
        directories.insert(0, Path(os.path.expanduser(str(configured))))
    name = os.path.basename(path)
    for directory in directories:
        candidate = directory / name
        if name and candidate.is_file():
            return str(candidate)
    return None


def _is_future(target: object) -> bool:
    return all(hasattr(target, name) for name in ("key", "status", "exception", "done"))


def _failure_of(future: Any) -> BaseException:
    """The exception of a failed future: waits for one still running."""
    try:
        exc = future.exception()
    except Exception as err:  # cancelled, or its client is closed
        raise snapshot.SnapshotNotFoundError(
            f"the future {future.key!r} has no exception to replay ({type(err).__name__}: "
            f"{err}); pass the exception it raised, or the snapshot's path"
        ) from err
    if not isinstance(exc, BaseException):
        raise snapshot.SnapshotNotFoundError(
            f"the future {future.key!r} did not fail (status {future.status!r}): there is no "
            "snapshot of it"
        )
    return exc


def _notes(exc: BaseException) -> list[str]:
    """The notes of ``exc`` and of the exceptions it was raised from or during."""
    notes: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        notes += [n for n in getattr(current, "__notes__", None) or [] if isinstance(n, str)]
        current = current.__cause__ or current.__context__
    return notes


def _from_exception(exc: BaseException, what: str) -> str:
    text = "\n".join(_notes(exc))
    found = _WRITTEN.search(text)
    if found is None:
        missing = _NOT_WRITTEN.search(text)
        why = (
            f"the hook says: {missing.group('why')}"
            if missing
            else "no `dask-replay: snapshot written to` note: the hook was not loaded on the "
            "worker that ran it (see docs/configuration.md)"
        )
        raise snapshot.SnapshotNotFoundError(f"{what} names no snapshot: {why}")
    host, path = found.group("host"), found.group("path")
    if os.path.isfile(path):
        return path  # this machine, or a file system it shares with the worker
    copy = client_copy(path)
    if copy is not None:
        return copy
    here = socket.gethostname()
    if host == here:
        raise snapshot.SnapshotNotFoundError(
            f"{path}: no such file; {what} names it, on this machine ({host}): it was "
            "moved or deleted since",
            path=path,
        )
    raise snapshot.SnapshotNotFoundError(
        f"{path} is on {host}, not on this machine ({here}); copy it here "
        f"(scp {host}:{path} .) and pass its path to replay.load",
        path=path,
    )
