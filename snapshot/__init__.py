"""The snapshot bundle: format 1.0, a streaming writer and a safe reader.

A snapshot is one zstd stream around a POSIX tar archive whose first member is
``manifest.json`` (see ``specs/snapshot-format.md``).  This package knows
nothing of Dask: it captures a Python failure (call, inputs, exception, frames
and their locals, sources, environment) and reads it back.
"""

from __future__ import annotations

from ._builder import FORMAT_VERSION, SnapshotBuilder, key_to_json
from ._environment import DEFAULT_ENV_ALLOW, environment_info
from ._errors import (
    SnapshotError,
    SnapshotFormatError,
    SnapshotKeyError,
    SnapshotLimitError,
    SnapshotModuleError,
    SnapshotNotFoundError,
    SnapshotReadError,
    SnapshotSignatureError,
    SnapshotTruncatedError,
    SnapshotUnpickleError,
    SnapshotVersionError,
    SnapshotWriteError,
)
from ._keys import read_key_file
from ._limits import ReadLimits, WriteLimits
from ._opcodes import pickle_imports
from ._pieces import Placeholder
from ._reader import Snapshot, open_snapshot, read_manifest
from ._redact import DEFAULT_PATTERNS, REDACTED, Redactor

__all__ = [
    "DEFAULT_ENV_ALLOW",
    "DEFAULT_PATTERNS",
    "FORMAT_VERSION",
    "REDACTED",
    "Placeholder",
    "ReadLimits",
    "Redactor",
    "Snapshot",
    "SnapshotBuilder",
    "SnapshotError",
    "SnapshotFormatError",
    "SnapshotKeyError",
    "SnapshotLimitError",
    "SnapshotModuleError",
    "SnapshotNotFoundError",
    "SnapshotReadError",
    "SnapshotSignatureError",
    "SnapshotTruncatedError",
    "SnapshotUnpickleError",
    "SnapshotVersionError",
    "SnapshotWriteError",
    "WriteLimits",
    "environment_info",
    "key_to_json",
    "open_snapshot",
    "pickle_imports",
    "read_key_file",
    "read_manifest",
]
