"""What a snapshot holds: the pieces the capture thread adds, one by one.

The error and every frame's locals, the call a replay re-executes, the
inputs and the run_spec, each scrubbed of secrets first; between them the
capture checks whether it was cancelled (``_budget``).  Also what the worker's
``TaskState`` says about the task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import FrameType, FunctionType
from typing import Any

from dask.utils import key_split

import snapshot
from snapshot._write.exception import redact_error

from ._budget import CaptureJob
from ._config import Settings
from ._fallback import Failure
from ._scrub import is_map_chunk, scrub_node

_OFF = "input capture is off (snapshot.capture-inputs)"


@dataclass(frozen=True)
class TaskInfo:
    """What the worker's ``TaskState`` says about the failed task."""

    key: Any
    prefix: str
    dependencies: tuple[Any, ...]
    annotations: dict[str, Any]
    priority: tuple[Any, ...] | None


def task_info(ts: Any, key: Any) -> TaskInfo:
    """Read the worker's ``TaskState`` from the task's thread (it is not mutated
    while the task executes); without one, just the key."""
    try:
        return TaskInfo(
            key=ts.key,
            prefix=str(getattr(ts, "prefix", "")),
            dependencies=tuple(dep.key for dep in list(ts.dependencies)),
            annotations=dict(ts.annotations or {}),
            priority=tuple(ts.priority) if ts.priority is not None else None,
        )
    except Exception:
        return TaskInfo(key, key_split(key), (), {}, None)


def task_section(
    task: TaskInfo,
    run_spec: Any,
    attempt: int,
    fp: str,
    occurrence: int,
    redactor: snapshot.Redactor,
) -> dict[str, Any]:
    """The manifest's ``task`` section."""
    return {
        "key": snapshot.key_to_json(task.key),
        "prefix": task.prefix,
        "dependencies": [snapshot.key_to_json(k) for k in task.dependencies],
        "annotations": redactor.scrub(jsonable(task.annotations)),
        "priority": list(task.priority) if task.priority is not None else None,
        # Snapshots of this key so far on this host in this cluster, this one
        # included: with retries=N the attempts are numbered 1..N+1.
        "attempt": attempt,
        "fingerprint": fp,
        "occurrence": occurrence,
        # An async def task: its call returns a coroutine to await.
        "is_coro": bool(getattr(run_spec, "is_coro", False)),
    }


def frame_locals(frame: FrameType, redactor: snapshot.Redactor) -> Mapping[str, Any]:
    """A frame's locals as stored: dask's nodes scrubbed, its plumbing withheld."""
    # dask's own frames hold Task objects (``self`` in Task.__call__), whose
    # kwargs the snapshot's redactor cannot see into: scrub_node does.  They
    # also hold helper closures (``_eval``) and iterators (bag's chains of
    # _MapChunk) that would drag the task's keyword arguments in unseen;
    # those, plumbing rather than the user's state, are withheld.
    plumbing = str(frame.f_globals.get("__name__", "")).startswith(("dask.", "distributed."))
    out = {}
    for name, value in frame.f_locals.items():
        if plumbing and _opaque(value):
            # A plain string: it unpickles anywhere, unlike a stand-in class.
            out[name] = f"<withheld by dask-replay: {_type_name(value)}>"
        else:
            out[name] = scrub_node(value, redactor)
    return out


def fill(
    settings: Settings,
    builder: snapshot.SnapshotBuilder,
    job: CaptureJob,
    failure: Failure,
    redactor: snapshot.Redactor,
) -> None:
    """Everything but the writing: each piece is pickled as it is added."""
    builder.manifest["task"] = failure.task_section
    builder.manifest["origin"].update(failure.origin)
    builder.manifest["environment"] = snapshot.environment_info(
        env_allow=settings.env_allow, redactor=redactor
    )
    # Only frames that were in the traceback when the capture started: the
    # worker's frames the exception propagates through later are live.
    known = failure.frame_ids

    def get_locals(frame: FrameType) -> Mapping[str, Any]:
        if id(frame) not in known:
            return {}
        job.checkpoint(f"the locals of {frame.f_code.co_name}")
        return frame_locals(frame, redactor)

    job.checkpoint("the exception")
    builder.capture_exception(
        failure.exc,
        skip_frames=0,
        get_locals=get_locals if settings.capture_locals else _no_locals,
    )
    error = builder.manifest.get("error")
    if isinstance(error, dict):
        builder.manifest["error"] = redact_error(error, redactor.redact_text)
    call = failure.call
    data = failure.data
    job.checkpoint("call.func and the call's arguments")
    if settings.capture_inputs:
        builder.set_call(call.func, call.args, call.kwargs, origin=call.origin)
        job.checkpoint("the task's inputs")
        builder.add_inputs(dict(data))
        job.checkpoint("the run_spec")
        builder.add_run_spec(scrub_node(failure.run_spec, redactor))
    else:
        builder.set_call(
            call.func,
            call.args,
            call.kwargs,
            origin=call.origin,
            capture_arguments=False,
            reason=_OFF,
        )
        builder.add_inputs(dict(data), capture=False, reason=_OFF)
        builder.manifest["run_spec"] = builder.omit(failure.run_spec, label="run_spec", reason=_OFF)


def _opaque(value: Any) -> bool:
    """A closure or an iterator: holds objects that no scrubbing can reach."""
    if isinstance(value, FunctionType):
        return value.__closure__ is not None
    return isinstance(value, Iterator) and not is_map_chunk(value)


def _no_locals(frame: FrameType) -> Mapping[str, Any]:
    return {}  # snapshot.capture-locals is off


def jsonable(value: Any, depth: int = 0) -> Any:
    """Annotations are user data: keep JSON-able parts, repr the rest."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if depth > 8:
        return repr(value)[:200]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in value]
    return repr(value)[:200]


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"
