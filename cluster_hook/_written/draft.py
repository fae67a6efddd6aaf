"""The snapshot a worker writes for the scheduler: a task it did not run, from the scheduler's record.

A death snapshot (:mod:`cluster_hook._deaths.writer`) and a snapshot asked
for (:mod:`cluster_hook._ondemand.writer`) are both written on a worker chosen
by the scheduler, from a record it sent with the worker's ``run`` handler: the
task's key, prefix, dependencies, annotations, priority and run_spec.  Both
start the same way (:func:`draft`: the worker's settings' limits and
redaction, the ``task``, ``origin`` and ``environment`` sections, the
run_spec with its secrets scrubbed) and store the inputs the same way
(:func:`add_inputs`); each adds only its own section (``death`` or
``on_demand``) and its call.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import snapshot
from snapshot import StormGuard, TaskInfo, task_section

from .._config import Settings
from .._lineage.gather import flag_recomputed
from .._scrub import scrub_node

__all__ = ["Draft", "add_inputs", "draft", "guard", "size"]


@dataclass(frozen=True)
class Draft:
    """A snapshot begun: its builder, the redactor it uses, the scrubbed run_spec, this host."""

    builder: snapshot.SnapshotBuilder
    redactor: snapshot.Redactor
    spec: Any
    host: str


def guard(settings: Settings) -> StormGuard:
    """The directory's guard: file names, attempts, its size (for a death)."""
    return StormGuard(settings.directory, settings.max_per_fingerprint, settings.max_directory_size)


def draft(
    settings: Settings,
    record: Mapping[str, Any],
    origin: Mapping[str, Any],
    *,
    max_total_bytes: int | None = None,
    attempt: int = 1,
    fingerprint: str = "",
    occurrence: int = 1,
) -> Draft:
    """The snapshot of the task ``record`` describes, up to its own section and call.

    ``origin`` is the manifest's ``origin`` (where the task ran, who wrote it);
    ``max_total_bytes`` caps the file below ``snapshot.max-total-size``.
    """
    redactor = snapshot.Redactor(settings.redact)
    total = settings.max_total_size
    builder = snapshot.SnapshotBuilder(
        limits=snapshot.WriteLimits(
            max_piece_bytes=settings.max_object_size,
            max_total_bytes=total if max_total_bytes is None else min(total, max_total_bytes),
        ),
        redactor=redactor,
        spool_dir=settings.directory,  # big pickles wait on disk, as a failure's do
    )
    run_spec = record["run_spec"]
    task = TaskInfo(
        key=record["key"],
        prefix=record["prefix"],
        dependencies=tuple(record["dependencies"]),
        annotations=dict(record.get("annotations") or {}),
        priority=None if record.get("priority") is None else tuple(record["priority"]),
    )
    builder.manifest["task"] = task_section(
        task, run_spec, attempt, fingerprint, occurrence, redactor
    )
    builder.manifest["origin"].update(origin)
    builder.manifest["environment"] = snapshot.environment_info(
        env_allow=settings.env_allow, redactor=redactor
    )
    return Draft(builder, redactor, scrub_node(run_spec, redactor), socket.gethostname())


def add_inputs(made: Draft, data: dict[Any, Any], record: Mapping[str, Any]) -> None:
    """The task's inputs (those recomputed from their lineage flagged) and its run_spec."""
    made.builder.add_inputs(data)
    flag_recomputed(made.builder.manifest["inputs"], record.get("recomputed") or {}, data)
    made.builder.add_run_spec(made.spec)


def size(path: Path) -> int:
    """The file's size in bytes; 0 if it cannot be read."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
