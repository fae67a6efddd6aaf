"""Writing a death snapshot, on a surviving worker, with the same writer as a failure's.

:func:`write_death_snapshot` is sent by the scheduler's
:class:`~cluster_hook._deaths.scheduler.DeathWatch` through the worker's ``run``
handler.  It gathers the surviving inputs (from this worker's memory or from
their holders, which the scheduler keeps pinned meanwhile), then builds the
snapshot in a thread: the task's run_spec as the call (``run_spec(inputs)``),
the inputs, and the manifest's ``death`` section saying how the worker died.
An input the scheduler recomputed from its lineage (its only copy died with
the worker: :mod:`cluster_hook._lineage.recover`) is flagged in the
manifest's ``inputs`` entry (``recomputed``: from what, and that an impure
task may have given another value).
The scheduler has already counted the death against
``snapshot.max-per-fingerprint``; the directory's size limit is checked here.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import snapshot
from snapshot import make_private_dirs

from .._config import Settings
from .._lineage.gather import gather_values, over_headroom
from .._names import SNAPSHOT_TOPIC
from .._written.draft import add_inputs, draft, guard, size

_OFF = "input capture is off (snapshot.capture-inputs)"
logger = logging.getLogger("distributed.worker.cluster_hook")


@dataclass(frozen=True)
class DeathWritten:
    path: Path | None
    reason: str = ""
    event: dict[str, Any] | None = None


async def write_death_snapshot(record: dict[str, Any], dask_worker: Any = None) -> dict[str, Any]:
    """Runs on a worker: write the snapshot of one death; return ``{path, host, reason}``."""
    worker = dask_worker
    settings = Settings.from_config(record.get("settings") or {})
    if not settings.enabled:
        return {"path": None, "host": socket.gethostname(), "reason": "snapshot.enabled is false"}
    # A listing of the directory (a network file system, maybe): not on the event loop.
    earlier = await asyncio.to_thread(_announce_earlier, settings, record, str(worker.address))
    if earlier is not None:
        return _reply(worker, earlier)
    lost = dict(record.get("lost") or {})
    data: dict[Any, Any] = {}
    if settings.capture_inputs:
        who_has = dict(record.get("who_has") or {})
        too_big = over_headroom(worker, who_has, record.get("nbytes") or {})
        for key, why in too_big.items():
            del who_has[key]
            lost[key] = why
        data, missing = await gather_values(worker, who_has)
        strict = set(record.get("strict") or ())
        if strict.intersection(missing):
            # A recomputed input's holder died meanwhile: the scheduler sends this again.
            return {"path": None, "host": socket.gethostname(), "reason": "", "retry": True}
        for key in missing:
            lost[key] = "its holders could not send it to the worker writing the snapshot"
    try:
        outcome = await asyncio.to_thread(
            _write, settings, record, data, lost, str(worker.address), str(worker.name)
        )
    except snapshot.SnapshotWriteError:
        raise
    except OSError as err:  # the directory itself: the scheduler logs this and asks another
        raise snapshot.SnapshotWriteError(
            f"{settings.directory}: cannot write a death snapshot there: "
            f"{err.strerror or err}; check snapshot.directory on this worker",
            path=str(settings.directory),
        ) from err
    return _reply(worker, outcome)


def _announce_earlier(
    settings: Settings, record: Mapping[str, Any], writer_address: str
) -> DeathWritten | None:
    """Announce the snapshot of this very death, if an earlier attempt wrote it here.

    That writer died (or stalled) before its answer reached the scheduler:
    the file is announced again rather than a second one written.
    """
    token = record.get("death_id")
    earlier = guard(settings).written_with(token) if isinstance(token, str) else None
    if earlier is None:
        return None
    try:
        manifest = snapshot.read_manifest(earlier)
    except snapshot.SnapshotError:
        manifest = {}
    attempt = (manifest.get("task") or {}).get("attempt")
    death = manifest.get("death")
    complete = isinstance(death, dict) and not death.get("lost_inputs")
    return _announce(settings, record, earlier, writer_address, attempt, complete)


def _reply(worker: Any, outcome: DeathWritten) -> dict[str, Any]:
    if outcome.event is not None:
        try:
            worker.log_event(SNAPSHOT_TOPIC, outcome.event)
        except Exception:
            pass
    return {
        "path": str(outcome.path) if outcome.path else None,
        "host": socket.gethostname(),
        "reason": outcome.reason,
    }


def _write(
    settings: Settings,
    record: Mapping[str, Any],
    data: dict[Any, Any],
    lost: dict[Any, str],
    writer_address: str,
    writer_name: str,
) -> DeathWritten:
    death = dict(record["death"])
    key = record["key"]
    directory = guard(settings)
    directory.set_scope(str(record["scheduler_id"]))
    make_private_dirs(settings.directory)
    directory.prune_once()
    # The scheduler counted this death against snapshot.max-per-fingerprint.
    remaining = directory.remaining_bytes()
    if remaining <= 0:
        return DeathWritten(None, f"{settings.directory} is full (snapshot.max-directory-size)")
    origin = {
        "host": death.get("host"),
        "worker": death.get("worker"),
        "worker_name": death.get("worker_name"),
        "written_by": {
            "host": socket.gethostname(),
            "worker": writer_address,
            "worker_name": writer_name,
        },
    }
    attempt = directory.attempt(key)
    made = draft(
        settings,
        record,
        origin,
        max_total_bytes=remaining,
        attempt=attempt,
        fingerprint=str(record["fingerprint"]),
        occurrence=record["occurrence"],
    )
    builder = made.builder
    death["lost_inputs"] = [
        {"key": snapshot.key_to_json(k), "reason": why} for k, why in sorted(lost.items(), key=repr)
    ]
    builder.manifest["death"] = death
    builder.manifest["error"] = {
        "type": "KilledWorker",
        "module": "distributed.scheduler",
        "message": death["summary"],
        "notes": [],
        "traceback": death.get("stacks") or "",
        "chain": [],
    }
    if settings.capture_inputs:
        builder.set_call(made.spec, (dict(data),), origin="run_spec")
        add_inputs(made, data, record)
    else:
        builder.set_call(
            made.spec, (data,), origin="run_spec", capture_arguments=False, reason=_OFF
        )
        builder.manifest["inputs"] = []
        builder.manifest["run_spec"] = builder.omit(
            record["run_spec"], label="run_spec", reason=_OFF
        )
    token = record.get("death_id")
    path = directory.new_path(key, made.host, token if isinstance(token, str) else None)
    written = builder.write(path, key=settings.key)
    return _announce(settings, record, written, writer_address, attempt, not lost)


def _announce(
    settings: Settings,
    record: Mapping[str, Any],
    written: Path,
    writer_address: str,
    attempt: object,
    complete: bool,
) -> DeathWritten:
    """Upload the written snapshot and make its ``snapshot`` event."""
    death = record["death"]
    event = {
        "key": snapshot.key_to_json(record["key"]),
        "path": str(written),
        "url": _upload(settings, written),
        "host": socket.gethostname(),
        "worker": writer_address,
        "exception": "distributed.scheduler.KilledWorker",
        "message": death["summary"][:500],
        "fingerprint": str(record["fingerprint"]),
        "attempt": attempt,
        "bytes": size(written),
        "complete": complete,
        "death": {
            "cause": death["cause"],
            "worker": death.get("worker"),
            "exit_code": death.get("exit_code"),
            "signal": death.get("signal"),
            "killed_worker": death.get("killed_worker"),
        },
    }
    return DeathWritten(written, "", event)


def _upload(settings: Settings, written: Path) -> str | None:
    """Copy the snapshot to ``snapshot.upload``, as failures' snapshots are; None if not."""
    if not settings.upload:
        return None
    return snapshot.upload_snapshot(written, settings.upload, _warn)


def _warn(message: str, *args: object) -> None:
    logger.warning("dask-replay: death snapshot: " + message, *args)
