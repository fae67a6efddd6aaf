"""On the worker writing a snapshot: the task's values brought to it, within its memory.

Both writers that run away from the task's own worker (a death's, and
``cluster_hook.capture``'s) take the values the scheduler names (``who_has``)
from this worker's memory or from their holders, leave out those that would
push this worker past its restart line, and flag in the manifest the inputs
the scheduler recomputed from their lineage (:mod:`.recover`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import snapshot
from snapshot import MemoryGuard

from .._config import memory_guard
from .recover import IMPURE_NOTE

__all__ = ["flag_recomputed", "gather_values", "over_headroom"]


def over_headroom(
    worker: Any, who_has: Mapping[Any, list[str]], nbytes: Mapping[Any, int]
) -> dict[Any, str]:
    """Values not to fetch, with why: together they would push this worker past its
    restart line (the values it already holds cost nothing)."""
    headroom = memory_guard(worker).headroom()
    if headroom is None:
        return {}
    room = headroom - MemoryGuard.RESERVE
    skipped = {}
    for key in sorted((k for k in who_has if k not in worker.data), key=repr):
        size = int(nbytes.get(key, 0))
        if size > room:
            skipped[key] = (
                f"fetching it ({size / 2**20:.0f} MiB) would push the worker writing the "
                "snapshot past its memory restart threshold"
            )
        else:
            room -= size
    return skipped


async def gather_values(
    worker: Any, who_has: Mapping[Any, list[str]]
) -> tuple[dict[Any, Any], list[Any]]:
    """The values of ``who_has``'s keys (this worker's own, the others fetched from a
    holder) and the keys that could not be fetched."""
    data: dict[Any, Any] = {}
    remote: dict[Any, list[str]] = {}
    for key, holders in who_has.items():
        if key in worker.data:
            data[key] = worker.data[key]
        else:
            remote[key] = list(holders)
    missing: list[Any] = []
    if remote:
        from distributed.utils_comm import gather_from_workers

        got, missing_keys, failed_keys, _ = await gather_from_workers(
            remote, rpc=worker.rpc, who=worker.address
        )
        data.update(got)
        missing = [*missing_keys, *failed_keys]
    return data, missing


def flag_recomputed(
    entries: list[dict[str, Any]],
    recomputed: Mapping[Any, Mapping[str, Any]],
    data: Mapping[Any, Any],
) -> None:
    """Add ``recomputed`` (spec 4.5) to the ``inputs`` entries of the inputs in ``data``
    that the scheduler recomputed from their lineage for this snapshot."""
    flags = {
        _hashable(snapshot.key_to_json(key)): {
            "function": str(how.get("function")),
            "from": [snapshot.key_to_json(k) for k in how.get("from") or ()],
            "tasks": int(how.get("tasks") or 1),
            "by": str(how.get("by")),
            "note": IMPURE_NOTE,
        }
        for key, how in recomputed.items()
        if key in data
    }
    for entry in entries:
        flag = flags.get(_hashable(entry.get("key")))
        if flag is not None:
            entry["recomputed"] = flag


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key
