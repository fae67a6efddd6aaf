"""What ``replay.load`` accepts: a path or URL, a failed ``Future``, or the exception it raised.

A ``KilledWorker`` carries no note (distributed builds it before the death is
known to any plugin): its snapshot is found by its task and last worker
(:mod:`replay._fetch.killed`).  The hook adds a note to the exception the client gets,
``dask-replay: snapshot written to HOST:PATH``; the note is all a ``Future``
or its exception says about the snapshot.  The file is looked for, in order:
at that path (this machine, or a file system both share); among the copies
the hook's client part keeps (``snapshot.client-directory``); on the worker's
host through a live client (the future's, or distributed's default client);
in remote storage, where the note's ``dask-replay: copied to URL`` line says
``snapshot.upload`` put it (a URL is returned as it is: ``replay._fetch.remote``
reads it).
A future whose client has closed is cancelled by distributed and forgets its
exception: it is found among the client copies by its key.  Anything else is
an error that says where the file is and how to get it.  Futures are
recognised by their shape, so that importing replay never imports
distributed.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any, Protocol

import snapshot

from .client_copies import client_copy, client_directories, copy_for_key
from .killed import is_killed_worker, killed_worker_snapshot
from .worker_fetch import default_client, fetch_from_workers

__all__ = ["FutureLike", "snapshot_path"]


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
_COPIED = re.compile(r"^dask-replay: copied to (?P<url>[^\n]+)$", re.M)


def snapshot_path(target: str | os.PathLike[str] | BaseException | FutureLike) -> str:
    """The path of the snapshot ``target`` names; raises a :class:`snapshot.SnapshotError`."""
    if isinstance(target, (str, bytes, os.PathLike)):
        return os.fsdecode(target)
    if isinstance(target, BaseException):
        return _from_exception(target, f"{type(target).__name__}")
    if _is_future(target):
        return _from_future(target)
    raise TypeError(
        "replay.load() takes the path of a snapshot, a failed dask Future, or the exception "
        f"it raised; not {type(target).__name__}"
    )


def _is_future(target: object) -> bool:
    return all(hasattr(target, name) for name in ("key", "status", "exception", "done"))


def _from_future(future: Any) -> str:
    """The snapshot of a failed future: from its exception, else by its key (client closed)."""
    what = f"the future {future.key!r}"
    try:
        exc = _failure_of(future)
    except snapshot.SnapshotNotFoundError:
        copy = copy_for_key(future.key)
        if copy is not None:
            return copy
        raise
    return _from_exception(exc, what, client=getattr(future, "client", None))


def _failure_of(future: Any) -> BaseException:
    """The exception of a failed future: waits for one still running."""
    if future.status == "cancelled":
        # distributed cancels every future of a client when it closes: the exception is gone.
        raise snapshot.SnapshotNotFoundError(
            f"the future {future.key!r} was cancelled (its client closed, or it was cancelled) "
            "and has no exception any more, and no client copy of its snapshot is here "
            f"({', '.join(map(str, client_directories()))}). The client part "
            "(distributed.client.preload: [cluster_hook], or cluster_hook.register(client)) "
            "keeps one when it is active and the snapshot fits in snapshot.client-max-size; "
            "otherwise keep `exc = future.exception()` before closing the client and pass exc"
        )
    try:
        exc = future.exception()
    except Exception as err:  # its client is closed, or the scheduler is gone
        raise snapshot.SnapshotNotFoundError(
            f"the future {future.key!r} has no exception to replay ({type(err).__name__}: "
            f"{err}); pass the exception it raised, or the snapshot's path"
        ) from err
    if not isinstance(exc, BaseException):
        raise snapshot.SnapshotNotFoundError(
            f"the future {future.key!r} did not fail (status {future.status!r}): there is no "
            "snapshot of it; cluster_hook.capture(future) writes one of a task that succeeded"
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


def _from_exception(exc: BaseException, what: str, client: Any = None) -> str:
    text = "\n".join(_notes(exc))
    found = _WRITTEN.search(text)
    if found is None and is_killed_worker(exc):
        return killed_worker_snapshot(exc, what, client)
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
    copy = client_copy(path) or fetch_from_workers(client or default_client(), host, path)
    if copy is not None:
        return copy
    uploaded = _COPIED.search(text)
    problem = None
    if uploaded is not None:
        url = uploaded.group("url").strip()
        problem = _unreadable(url)
        if problem is None:
            return url
    here = socket.gethostname()
    if host == here:
        message = (
            f"{path}: no such file; {what} names it, on this machine ({host}): it was "
            "moved or deleted since"
        )
    else:
        message = (
            f"{path} is on {host}, not on this machine ({here}); copy it here "
            f"(scp {host}:{path} .) and pass its path to replay.load"
        )
    if problem is not None:
        message += f"; and its copy cannot be read either: {problem}"
    raise snapshot.SnapshotNotFoundError(message, path=path)


def _unreadable(url: str) -> str | None:
    """Why the object at ``url`` (the note's ``snapshot.upload`` copy) cannot be read, or None."""
    from .remote import filesystem, is_url, local_path, remote_errors

    if not is_url(url):
        return f"{url}: not a URL"
    local = local_path(url)
    if local is not None:
        return None if os.path.isfile(local) else f"{url}: no such file"
    try:
        fs, name = filesystem(url)
        with remote_errors(url):
            fs.info(name)
    except snapshot.SnapshotError as exc:
        return str(exc)
    return None
