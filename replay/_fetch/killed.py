"""The snapshot of a ``KilledWorker``: found by its task's key and the worker that died last.

distributed builds ``KilledWorker(task, last_worker, allowed_failures)`` in
``Scheduler.remove_worker`` and pickles it into the task's ``erred``
transition before any plugin hears of the death (the ``remove-worker``
event comes after), so the hook cannot add a note to it: the exception
names the task and the last worker, and that is enough.  The death snapshot
is announced on the scheduler's ``snapshot`` topic (with ``death.worker``,
the dead worker's address) a moment after the client got the exception, so
a live client's events are watched for it, at most ``WAIT`` seconds; without
a live client, the client part's copies are looked up by the task's key.
"""

from __future__ import annotations

import os
import time
from typing import Any

import snapshot

from .client_copies import client_copy, copy_for_key
from .worker_fetch import default_client, fetch_from_workers

__all__ = ["is_killed_worker", "killed_worker_snapshot"]

#: How long to wait for the death snapshot to be announced after KilledWorker.
WAIT = 90.0
#: The name the hook registers its scheduler plugin under (cluster_hook._names).
_DEATH_WATCH = "dask-replay-deaths"


def is_killed_worker(exc: BaseException) -> bool:
    """distributed's ``KilledWorker``, told by its shape (replay imports no distributed)."""
    return type(exc).__name__ == "KilledWorker" and hasattr(exc, "task")


def killed_worker_snapshot(exc: BaseException, what: str, client: Any = None) -> str:
    """The path of the death snapshot of the death that raised ``exc``."""
    key = getattr(exc, "task", None)
    worker = getattr(getattr(exc, "last_worker", None), "address", None)
    client = client if _live(client) else default_client()
    if _live(client) and _records_deaths(client) is False:
        raise snapshot.SnapshotNotFoundError(
            f"{what}: this cluster's scheduler does not record worker deaths (dask-replay's "
            "death watch is not loaded there), so task "
            f"{key!r} left no death snapshot. Load the hook: dask scheduler --preload "
            "cluster_hook, dask worker --preload cluster_hook, or cluster_hook.register(client)"
        )
    if _live(client):
        event = _announced(client, key, worker)
        if event is not None:
            path = str(event.get("path"))
            if os.path.isfile(path):
                return path
            found = client_copy(path) or fetch_from_workers(client, str(event.get("host")), path)
            if found is not None:
                return found
    copy = copy_for_key(key)
    if copy is not None:
        return copy
    raise snapshot.SnapshotNotFoundError(
        f"{what}: no death snapshot of task {key!r} (last worker {worker}) was found: none was "
        f"announced on the cluster's 'snapshot' events within {WAIT:.0f} s"
        + ("" if _live(client) else " (no live client to ask)")
        + ", and the client part keeps no copy of it. The hook records deaths when the "
        "scheduler runs it (dask scheduler --preload cluster_hook, or the workers' preload); "
        "`python -m replay list SNAPSHOT_DIRECTORY` shows what was written"
    )


def _live(client: Any) -> bool:
    return (
        client is not None
        and getattr(client, "status", None) == "running"
        and not getattr(client, "asynchronous", True)
    )


def _records_deaths(client: Any) -> bool | None:
    """Whether the scheduler runs the hook's death watch; None when it cannot be told."""
    try:
        return bool(client.run_on_scheduler(_has_death_watch))
    except Exception:
        return None


def _has_death_watch(dask_scheduler: Any = None) -> bool:
    """Runs on the scheduler (by reference: replay is installed where the hook is)."""
    return _DEATH_WATCH in getattr(dask_scheduler, "plugins", {})


def _announced(client: Any, key: Any, worker: str | None) -> dict[str, Any] | None:
    """The ``snapshot`` event of this key's death on ``worker``, waited for."""
    wanted = snapshot.key_to_json(key)
    deadline = time.monotonic() + WAIT
    while True:
        try:
            events = client.get_events("snapshot")
        except Exception:
            return None
        mine = [
            e
            for _, e in events
            if isinstance(e, dict) and e.get("key") == wanted and isinstance(e.get("death"), dict)
        ]
        last = [e for e in mine if worker is None or e["death"].get("worker") == worker]
        if last:
            return last[-1]
        if time.monotonic() > deadline:
            return mine[-1] if mine else None
        time.sleep(0.2)
