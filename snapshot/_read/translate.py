"""The one table that turns foreign errors into ours, where they enter.

Reading a snapshot calls zstd, the operating system and the JSON decoder on
bytes from an untrusted file (tar headers are parsed by :mod:`.tar`, which raises
our errors itself).  Their errors are the file's
fault (or the disk's) and become a :class:`SnapshotError` subclass with a
message that names the file; anything else that escapes, a ``TypeError`` or an
``AttributeError`` of ours, is a bug, stays what it is, and the fuzz tests
find it::

    with translated(path):
        ...  # decompressing, reading, parsing tar headers
    manifest = load_json(data, path, "manifest.json")
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import zstandard

from .._errors import (
    SnapshotError,
    SnapshotFormatError,
    SnapshotLimitError,
    SnapshotReadError,
)


def _strerror(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)


#: foreign error -> (our error, message after "<path>: ").  First match wins.
TABLE: tuple[tuple[type[BaseException], type[SnapshotError], str], ...] = (
    (
        zstandard.ZstdError,
        SnapshotFormatError,
        "corrupt: zstd could not decompress it ({exc}); the file was damaged in storage "
        "or transfer: copy it again from the worker",
    ),
    (
        MemoryError,
        SnapshotLimitError,
        "not enough memory to read the snapshot; lower ReadLimits or free memory",
    ),
    (OSError, SnapshotReadError, "read error: {strerror}"),
)


def translate(path: str, exc: BaseException) -> SnapshotError | None:
    """Our error for a foreign ``exc``, or None when the table does not know it (a bug)."""
    for foreign, ours, message in TABLE:
        if isinstance(exc, foreign):
            text = message.format(exc=exc, strerror=_strerror(exc))
            return ours(f"{path}: {text}", path=path)
    return None


@contextmanager
def translated(path: str) -> Iterator[None]:
    """Errors of the table raised inside become ours (``raise ... from``); others pass."""
    try:
        yield
    except SnapshotError:
        raise
    except BaseException as exc:
        ours = translate(path, exc)
        if ours is None:
            raise
        raise ours from exc


def load_json(data: bytes | bytearray, path: str, what: str) -> Any:
    """Decode a JSON member; bad UTF-8, bad JSON, over-long integers and deep nesting
    are the file's fault (``ValueError`` covers the first three)."""
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except RecursionError as exc:
        raise SnapshotFormatError(
            f"{path}: {what} is nested too deeply to read; the file is corrupt or crafted",
            path=path,
        ) from exc
    except ValueError as exc:
        raise SnapshotFormatError(
            f"{path}: {what} is not valid UTF-8 JSON ({_short(exc)}); the file is corrupt",
            path=path,
        ) from exc


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."
