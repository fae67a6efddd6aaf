"""What a capture reports: the note added to the exception and the event it publishes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._format import key_to_json
from .._text import safe_str
from .._write.builder import SnapshotBuilder


@dataclass(frozen=True)
class CaptureOutcome:
    """What capturing one failure did: a file, a skip, or a failure to capture."""

    path: Path | None = None
    note: str | None = None  # added to the caller's exception
    event: dict[str, Any] | None = None  # handed to the Capturer's ``publish``


@dataclass(frozen=True)
class Written:
    """What a capture wrote."""

    path: Path
    broken: str | None  # why only the manifest was written
    left_out: list[str]
    url: str | None  # the settings.upload copy
    manifest_only: bool = False


def written_outcome(
    exc: BaseException,
    written: Written,
    *,
    key: Any,
    attempt: int,
    fp: str,
    stopped: str | None,
    host: str,
    worker: Any,
    message: str,
) -> CaptureOutcome:
    """The note and the event of a written snapshot; ``message`` is the redacted text."""
    copy = written.url
    event = {
        "key": key_to_json(key),
        "path": str(written.path),
        "url": copy,
        "host": host,
        "worker": worker,
        "exception": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": message,
        "fingerprint": fp,
        "attempt": attempt,
        "bytes": file_size(written.path),
        "complete": not written.left_out and written.broken is None,
        "stopped": stopped,
    }
    note = f"dask-replay: snapshot written to {host}:{written.path}"
    if copy:
        note += f"\ndask-replay: copied to {copy}"
    if stopped:
        held = "the manifest only" if written.manifest_only else "what was captured before"
        note += f"\ndask-replay: {stopped}; the snapshot holds {held}"
    return CaptureOutcome(path=written.path, note=note, event=event)


def left_out_of(builder: SnapshotBuilder) -> list[str]:
    """The builder's own report of what it lost (errors, caps, cancelling, live resources)."""
    try:
        return [str(entry) for entry in builder.left_out()]
    except Exception as err:  # the report must not cost the snapshot
        return [f"the capture report could not be made: {type(err).__name__}"]


def file_size(path: Path) -> int:
    """The file's size, 0 if it cannot be read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def exception_message(exc: BaseException) -> str:
    """The first 500 characters of ``str(exc)``, never raising."""
    return safe_str(exc, 500)
