"""The manifest-only snapshot, written by the failing thread without pickling anything.

When the capture is abandoned (a ``__getstate__`` that never returns holds the
capture thread) or must not start (the process is near its memory limit), what
failed and where is still worth a file: the error, the traceback's frames
(without locals), the task, the environment, and every object the snapshot
would have held recorded by type only, with the reason.  Nothing here calls a
user's ``repr``, ``__reduce__`` or ``__getstate__``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._write.builder import SnapshotBuilder
from .._write.exception import describe_exception
from .._write.frames import frame_records
from .._write.redact import Redactor
from .failure import Failure


def write_manifest_only(
    failure: Failure,
    *,
    reason: str,
    redactor: Redactor,
    environment: dict[str, Any],
    key: bytes | None,
) -> Path:
    """Write the manifest-only snapshot of ``failure``; raise ``SnapshotWriteError``."""
    builder = SnapshotBuilder(redactor=redactor)
    manifest = builder.manifest
    manifest["task"] = failure.task_section
    manifest["origin"].update(failure.origin)
    manifest["environment"] = environment
    manifest["error"] = describe_exception(failure.exc, redact=redactor.redact_text)
    manifest["exception"] = builder.omit(failure.exc, label="exception", reason=reason)
    sources: dict[str, str] = {}
    manifest["frames"] = frame_records(
        failure.exc.__traceback__,
        sources=sources,
        max_source_bytes=builder.limits.max_source_bytes,
        locals_of=lambda index, frame: {},
    )
    for filename, text in sources.items():
        builder.add_source(filename, text)
    call = failure.call
    if call is not None:  # None: a block ran, not a call
        manifest["call"] = {
            "func": builder.omit(call.func, label="call.func", reason=reason),
            "args": [
                builder.omit(a, label=f"call.args[{i}]", reason=reason)
                for i, a in enumerate(call.args)
            ],
            "kwargs": {
                str(k): builder.omit(v, label=f"call.kwargs[{k!r}]", reason=reason)
                for k, v in call.kwargs.items()
            },
            "origin": call.origin,
        }
    builder.add_inputs(dict(failure.data), capture=False, reason=reason)
    manifest["run_spec"] = builder.omit(failure.run_spec, label="run_spec", reason=reason)
    return builder.write(failure.path, key=key, pieces=False, reason=reason)
