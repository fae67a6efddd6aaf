"""What a snapshot holds: the pieces the capture thread adds, one by one.

The error and every frame's locals, the call a replay re-executes, the inputs
and the host's task object (the run_spec), each scrubbed of secrets first by
the host's policy and the redactor; between them the capture names what it is
doing, for the message if its time budget runs out (``budget``).  Also the
manifest's ``task`` section.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import FrameType
from typing import Any

from .._format import key_to_json
from .._write.builder import SnapshotBuilder
from .._write.environment import environment_info
from .._write.exception import redact_error
from .._write.redact import Redactor
from .budget import CaptureJob
from .failure import CapturePolicy, Failure, TaskInfo
from .settings import CaptureSettings

_OFF = "input capture is off (snapshot.capture-inputs)"


def task_section(
    task: TaskInfo,
    run_spec: Any,
    attempt: int,
    fp: str,
    occurrence: int,
    redactor: Redactor,
) -> dict[str, Any]:
    """The manifest's ``task`` section."""
    return {
        "key": key_to_json(task.key),
        "prefix": task.prefix,
        "dependencies": [key_to_json(k) for k in task.dependencies],
        "annotations": redactor.scrub(jsonable(task.annotations)),
        "priority": list(task.priority) if task.priority is not None else None,
        # Snapshots of this key so far on this host in this scope, this one
        # included: with retries=N the attempts are numbered 1..N+1.
        "attempt": attempt,
        "fingerprint": fp,
        "occurrence": occurrence,
        # An async def task: its call returns a coroutine to await.
        "is_coro": bool(getattr(run_spec, "is_coro", False)),
    }


def fill(
    settings: CaptureSettings,
    builder: SnapshotBuilder,
    job: CaptureJob,
    failure: Failure,
    redactor: Redactor,
    policy: CapturePolicy,
) -> None:
    """Everything but the writing: each piece is pickled as it is added."""
    builder.manifest["task"] = failure.task_section
    builder.manifest["origin"].update(failure.origin)
    builder.manifest["environment"] = environment_info(
        env_allow=settings.env_allow, redactor=redactor
    )
    # Only frames that were in the traceback when the capture started: the
    # host's frames the exception propagates through later are live.
    known = failure.frame_ids

    def get_locals(frame: FrameType) -> Mapping[str, Any]:
        if id(frame) not in known:
            return {}
        job.checkpoint(f"the locals of {frame.f_code.co_name}")
        return policy.locals_of(frame, redactor)

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
    if call is None:  # a block, not a call (``with snapshot.capture():``): frames only
        return
    job.checkpoint("call.func and the call's arguments")
    if settings.capture_inputs:
        builder.set_call(call.func, call.args, call.kwargs, origin=call.origin)
        job.checkpoint("the task's inputs")
        builder.add_inputs(dict(data))
        job.checkpoint("the run_spec")
        builder.add_run_spec(policy.scrub(failure.run_spec, redactor))
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
