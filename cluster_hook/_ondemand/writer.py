"""Writing a snapshot asked for, on the worker the scheduler chose: the one holding most of it.

:func:`write_on_demand` is sent by :func:`cluster_hook._ondemand.scheduler.capture_on_scheduler`
through the worker's ``run`` handler, with the task's run_spec.  It takes the
task's inputs (and, for a finished task, its result) from this worker's memory
or from their holders, then builds the snapshot in a thread from the draft
death snapshots start from too (``cluster_hook._written``: the task, origin and
environment sections, the inputs, the run_spec), adding its own: the call
(``cluster_hook._unwrap.resolved_call``, the resolver a failure's uses), the
result as the ``on_demand`` section's piece (spec 4.13), and, for a failed
task, the error the scheduler kept.  Large values move
between workers only, never through the scheduler or the client.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import snapshot
from snapshot import LiveCall, make_private_dirs

from .._config import Settings
from .._lineage.gather import gather_values, over_headroom
from .._names import PLUGIN_NAME
from .._unwrap import resolved_call
from .._written.draft import add_inputs, draft, guard, size

__all__ = ["TRIGGER", "write_on_demand"]

logger = logging.getLogger("distributed.worker.cluster_hook")

#: The manifest's ``on_demand.trigger``.
TRIGGER = "cluster_hook.capture"


async def write_on_demand(record: dict[str, Any], dask_worker: Any = None) -> dict[str, Any]:
    """Runs on a worker: write the snapshot ``record`` describes (and copy it to
    ``snapshot.upload``); ``{path, url, host, worker, bytes}``."""
    worker = dask_worker
    # The plugin's settings when the hook is loaded (its directory is where fetching looks).
    plugin = getattr(worker, "plugins", {}).get(PLUGIN_NAME)
    settings = getattr(plugin, "settings", None)
    if not isinstance(settings, Settings):
        settings = Settings.from_config(record.get("settings") or {})
    who_has = dict(record.get("who_has") or {})
    too_big = over_headroom(worker, who_has, record.get("nbytes") or {})
    if too_big:
        name, why = next(iter(too_big.items()))
        what = "its result" if name == record["key"] else "its input"
        return {
            "error": f"{what} {name!r} was not fetched to {worker.address}: {why}; release "
            "other values held there or give the workers a larger memory limit, then capture again"
        }
    data, missing = await gather_values(worker, who_has)
    key = record["key"]
    if record["state"] != "failed" and key not in data:
        return {"error": "its result could not be fetched from the workers holding it"}
    lost = [k for k in missing if k != key]
    if lost:
        return {"error": f"its input {lost[0]!r} could not be fetched from the workers holding it"}
    result = data.pop(key, None)
    path, url = await asyncio.to_thread(_write, settings, record, data, result, worker)
    return {
        "path": str(path),
        "url": url,
        "host": socket.gethostname(),
        "worker": str(worker.address),
        "bytes": size(path),
    }


def _write(
    settings: Settings,
    record: Mapping[str, Any],
    data: dict[Any, Any],
    result: Any,
    worker: Any,
) -> tuple[Path, str | None]:
    """The written snapshot, and its copy's URL at ``snapshot.upload`` (as every snapshot's)."""
    # snapshot.max-directory-size is not checked: a snapshot asked for is always written.
    make_private_dirs(settings.directory)
    origin = {
        "host": socket.gethostname(),
        "worker": str(worker.address),
        "worker_name": _name(worker),
    }
    made = draft(settings, record, origin)
    builder = made.builder
    builder.manifest["on_demand"] = {
        "trigger": TRIGGER,
        "state": record["state"],
        "requested_by": record.get("client"),
        "time": record.get("time"),
    }
    # The task's function and the values it was given, when resolving them runs
    # nothing; else the task itself (fused, nested): run_spec(inputs).
    call = resolved_call(made.spec, data) or LiveCall(made.spec, (dict(data),), {}, "run_spec")
    if record["state"] == "failed":
        _add_error(builder, record)
    builder.set_call(call.func, call.args, call.kwargs, origin=call.origin)
    add_inputs(made, data, record)
    if record["state"] != "failed":
        builder.add_result(result)
    path = builder.write(guard(settings).new_path(record["key"], made.host), key=settings.key)
    if not settings.upload:
        return path, None
    return path, snapshot.upload_snapshot(path, settings.upload, _warn)


def _warn(message: str, *args: object) -> None:
    logger.warning("dask-replay: capture: " + message, *args)


def _add_error(builder: snapshot.SnapshotBuilder, record: Mapping[str, Any]) -> None:
    """The failure the scheduler kept: its exception (without frames) and traceback text."""
    exception: Any = record.get("exception")
    try:
        # The scheduler keeps what the worker sent: serialized, not unpacked.
        from distributed.protocol.serialize import Serialized, deserialize

        if isinstance(exception, Serialized):
            exception = deserialize(exception.header, exception.frames)
        if isinstance(exception, bytes | bytearray):
            from distributed.protocol.pickle import loads

            exception = loads(exception)
    except Exception:
        exception = None
    if not isinstance(exception, BaseException):
        exception = RuntimeError(str(record.get("exception_text") or "the task failed"))
    builder.capture_exception(exception.with_traceback(None))
    builder.manifest["error"]["traceback"] = str(record.get("traceback_text") or "")


def _name(worker: Any) -> str | int | None:
    name = getattr(worker, "name", None)
    return name if isinstance(name, str | int) else None if name is None else str(name)
