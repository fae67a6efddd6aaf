"""``cluster_hook.capture(future)``: a snapshot of the task behind a Future (or a key), on request.

The scheduler finds the task's run_spec and where its values are
(:mod:`cluster_hook._ondemand.scheduler`); the worker holding most of them
writes the snapshot (:mod:`cluster_hook._ondemand.writer`); the file is then
copied by the client part's copies (``_client.copies``: into its directory,
``register(client, client_directory=...)``'s or ``snapshot.client-directory``,
fetched in chunks from a worker on another machine) with the keys file that lets
``replay.load(future)`` find it, and its path is returned.  With an
asynchronous client, ``await cluster_hook.capture(future)``.

Anything that cannot be captured raises :class:`CaptureError` with one line
naming the task, why, and what to do instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import snapshot
from snapshot import SNAPSHOT_SUFFIX as SUFFIX

from .._client.copies import ClientCopies, client_copies
from .scheduler import capture_on_scheduler

__all__ = ["CaptureError", "capture"]

#: Seconds a capture waits, by default, for a task that has yet to run and for
#: inputs recomputed from their lineage.
DEFAULT_TIMEOUT = 60.0


class CaptureError(snapshot.SnapshotError, RuntimeError):
    """A snapshot asked for with ``cluster_hook.capture`` cannot be written; the
    message names the task, why, and what to do instead."""


def capture(target: Any, *, client: Any = None, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Write a snapshot of the task behind ``target`` (a Future, or a key with ``client``).

    A finished task's snapshot holds its call, its inputs and the value it
    returned; a failed task's, its call, inputs and error; a task that has yet
    to run is waited for (at most ``timeout`` seconds), then captured; the worker
    writing it has ``timeout`` seconds too.  Returns
    the path of the copy in the client's directory (``register``'s
    ``client_directory``, else ``snapshot.client-directory``; ``replay.load(future)``
    finds it too); an awaitable of it when the client is asynchronous.
    Raises :class:`CaptureError`.
    """
    key, client = _key_and_client(target, client)
    in_flight = getattr(target, "status", None) == "pending"  # a future just submitted
    call: tuple[Any, ...] = (capture_on_scheduler, key, client.id, {}, float(timeout), in_flight)
    if client.asynchronous:
        return _capture_async(client, key, call, target)
    try:
        reply = client.run_on_scheduler(*call)
    except Exception as err:  # the scheduler is gone, or failed running our part
        raise _unreachable(key, err) from err
    return _keep(client_copies(client), key, _written(key, reply))


async def _capture_async(client: Any, key: Any, call: tuple[Any, ...], target: Any) -> Path:
    """``target`` is held until the capture ends: a future dropped by the caller
    (``await capture(client.submit(...))``) would let the scheduler forget its task."""
    try:
        reply = _written(key, await client.run_on_scheduler(*call))
    except CaptureError:
        raise
    except Exception as err:
        raise _unreachable(key, err) from err
    # Off the event loop: the copy fetches a file that is not on this machine from its
    # worker, in chunks, through the client (synchronous in that thread).
    kept = await asyncio.to_thread(_keep, client_copies(client), key, reply)
    del target
    return kept


def _key_and_client(target: Any, client: Any) -> tuple[Any, Any]:
    """The key asked for and the client to ask with; CaptureError for a future that cannot be."""
    is_future = all(hasattr(target, n) for n in ("key", "status", "client"))
    key = target.key if is_future else target
    client = client or (target.client if is_future else _default_client(key))
    status = str(getattr(client, "status", ""))
    if status in ("closing", "closed"):
        raise CaptureError(
            f"cannot capture {key!r}: its client is closed; capture before closing it, or "
            "pass the key with an open client: cluster_hook.capture(key, client=Client(ADDRESS))"
        )
    if is_future and target.status == "cancelled":
        raise CaptureError(
            f"cannot capture {key!r}: its future was cancelled and the scheduler may have "
            "forgotten the task; compute it again and capture the new future"
        )
    return key, client


def _unreachable(key: Any, err: Exception) -> CaptureError:
    said = (str(err).strip().splitlines() or [""])[0][:200]
    return CaptureError(
        f"cannot capture {key!r}: the scheduler did not answer ({type(err).__name__}: {said}); "
        "check that the cluster is up and that cluster_hook is importable on the scheduler"
    )


def _default_client(key: Any) -> Any:
    try:
        from distributed import default_client

        return default_client()
    except ValueError as err:
        raise CaptureError(
            f"cannot capture {key!r}: no client is running; pass client= (or a Future)"
        ) from err


def _written(key: Any, reply: Any) -> dict[str, Any]:
    """The worker's reply, or CaptureError saying why the scheduler or the worker refused."""
    if not isinstance(reply, dict) or (reply.get("error") is None and not reply.get("path")):
        raise CaptureError(f"cannot capture {key!r}: the scheduler gave no answer ({reply!r})")
    if reply.get("error") is None:
        return reply
    advice = {
        "unknown": "; compute it again and capture the new future",
        "lost": "; keep its inputs (persist them) or capture while they are held",
        "pending": "",
        "blamed": "",
    }.get(str(reply.get("kind")), "")
    raise CaptureError(f"cannot capture {key!r}: {reply['error']}{advice}")


def _keep(copies: ClientCopies, key: Any, reply: dict[str, Any]) -> Path:
    """The client copy of the written snapshot, with the key that finds it."""
    msg = {"path": reply["path"], "worker": reply.get("worker"), "bytes": reply.get("bytes")}
    msg["key"] = snapshot.key_to_json(key)
    if not str(reply["path"]).endswith(SUFFIX):
        raise CaptureError(f"cannot capture {key!r}: the worker wrote {reply['path']!r}")
    kept = copies.copy(msg, [msg["key"]])
    if kept is None:
        raise CaptureError(
            f"the snapshot of {key!r} was written on {reply.get('host')}:{reply['path']} but "
            f"could not be copied into {copies.directory} (the client's directory; the log "
            "says why); cluster_hook.fetch_snapshots(client, DIR) copies it while the cluster is up"
        )
    return kept
