"""The manifest-only snapshot, written by the task's own thread without pickling anything.

When the capture is abandoned (a ``__getstate__`` that never returns holds the
capture thread) or must not start (the worker is near its memory limit), what
failed and where is still worth a file: the error, the traceback's frames
(without locals), the task, the environment, and every object the snapshot
would have held recorded by type only, with the reason.  Nothing here calls a
user's ``repr``, ``__reduce__`` or ``__getstate__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import snapshot
from snapshot._write.exception import describe_exception, frame_source, iter_traceback

from ._unwrap import Call


@dataclass(frozen=True)
class Failure:
    """What the task's thread knows of one failure before its capture starts."""

    exc: BaseException
    run_spec: Any
    data: Mapping[Any, Any]
    call: Call
    task_section: dict[str, Any]
    origin: dict[str, Any]
    frames: tuple[FrameType, ...]  # the traceback's frames when the capture started
    path: Path

    @property
    def frame_ids(self) -> frozenset[int]:
        return frozenset(id(f) for f in self.frames)


def _frame_entries(builder: snapshot.SnapshotBuilder, exc: BaseException) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for frame, lineno in iter_traceback(exc.__traceback__):
        code = frame.f_code
        filename = code.co_filename
        text = frame_source(frame, builder.limits.max_source_bytes)
        if text is not None:
            builder.add_source(filename, text)
        frames.append(
            {
                "filename": filename,
                "function": code.co_name,
                "qualname": getattr(code, "co_qualname", code.co_name),
                "lineno": lineno,
                "firstlineno": code.co_firstlineno,
                "module": frame.f_globals.get("__name__"),
                "locals": {},
                "source": filename if text is not None else None,
            }
        )
    return frames


def write_manifest_only(
    failure: Failure,
    *,
    reason: str,
    redactor: snapshot.Redactor,
    environment: dict[str, Any],
    key: bytes | None,
) -> Path:
    """Write the manifest-only snapshot of ``failure``; raise ``SnapshotWriteError``."""
    builder = snapshot.SnapshotBuilder(redactor=redactor)
    manifest = builder.manifest
    manifest["task"] = failure.task_section
    manifest["origin"].update(failure.origin)
    manifest["environment"] = environment
    manifest["error"] = describe_exception(failure.exc, redact=redactor.redact_text)
    manifest["exception"] = builder.omit(failure.exc, label="exception", reason=reason)
    manifest["frames"] = _frame_entries(builder, failure.exc)
    call = failure.call
    manifest["call"] = {
        "func": builder.omit(call.func, label="call.func", reason=reason),
        "args": [
            builder.omit(a, label=f"call.args[{i}]", reason=reason) for i, a in enumerate(call.args)
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
