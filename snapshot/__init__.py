"""The snapshot bundle: format 1.1, a streaming writer and a safe reader.

A snapshot is one zstd stream around a POSIX tar archive whose first member is
``manifest.json`` (see ``specs/snapshot-format.md``).  This package knows
nothing of Dask: it captures a Python failure (call, inputs, exception, frames
and their locals, sources, environment) and reads it back.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

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
from ._format import FORMAT_VERSION, Placeholder, key_from_json, key_to_json
from ._keys import read_key_file
from ._limits import ReadLimits, WriteLimits
from ._model.manifest import (
    Amended,
    BufferRecord,
    Call,
    Capture,
    ChainEntry,
    Death,
    DeathMemory,
    Environment,
    Error,
    Frame,
    Input,
    LostInput,
    Manifest,
    Origin,
    PieceRecord,
    PythonInfo,
    SourceRecord,
    Summary,
    Task,
    Writer,
    WrittenBy,
)
from ._model.parsing import parse_manifest
from ._read.opening import open_snapshot, read_manifest, read_model
from ._read.snapshot import ImportScan, Snapshot

if _typing.TYPE_CHECKING:
    from ._amend import (
        KEYS_SUFFIX,
        add_sources,
        copy_of_keys_file,
        default_client_directory,
        keys_file,
        read_keys,
        write_keys,
    )
    from ._byvalue import DYNAMIC_CODE, by_value_functions
    from ._codehash import code_objects, code_sha256
    from ._read.opcodes import pickle_imports
    from ._text import safe_repr, safe_str
    from ._write.builder import SnapshotBuilder
    from ._write.environment import DEFAULT_ENV_ALLOW, environment_info
    from ._write.redact import DEFAULT_PATTERNS, REDACTED, Redactor

# The writing side (cloudpickle, package metadata, redaction) loads on first
# use, so that reading a snapshot, the common case on a laptop, starts fast.
_LAZY = {
    "KEYS_SUFFIX": "._amend",
    "add_sources": "._amend",
    "copy_of_keys_file": "._amend",
    "default_client_directory": "._amend",
    "keys_file": "._amend",
    "read_keys": "._amend",
    "write_keys": "._amend",
    "DYNAMIC_CODE": "._byvalue",
    "by_value_functions": "._byvalue",
    "code_objects": "._codehash",
    "code_sha256": "._codehash",
    "safe_repr": "._text",
    "safe_str": "._text",
    "SnapshotBuilder": "._write.builder",
    "DEFAULT_ENV_ALLOW": "._write.environment",
    "DEFAULT_PATTERNS": "._write.redact",
    "REDACTED": "._write.redact",
    "Redactor": "._write.redact",
    "environment_info": "._write.environment",
    "pickle_imports": "._read.opcodes",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "DEFAULT_ENV_ALLOW",
    "DEFAULT_PATTERNS",
    "DYNAMIC_CODE",
    "FORMAT_VERSION",
    "KEYS_SUFFIX",
    "REDACTED",
    "Amended",
    "BufferRecord",
    "Call",
    "Capture",
    "ChainEntry",
    "Death",
    "DeathMemory",
    "Environment",
    "Error",
    "Frame",
    "ImportScan",
    "Input",
    "LostInput",
    "Manifest",
    "Origin",
    "PieceRecord",
    "Placeholder",
    "PythonInfo",
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
    "SourceRecord",
    "Summary",
    "Task",
    "WriteLimits",
    "Writer",
    "WrittenBy",
    "add_sources",
    "by_value_functions",
    "code_objects",
    "code_sha256",
    "copy_of_keys_file",
    "default_client_directory",
    "environment_info",
    "key_from_json",
    "key_to_json",
    "keys_file",
    "open_snapshot",
    "parse_manifest",
    "pickle_imports",
    "read_key_file",
    "read_keys",
    "read_manifest",
    "read_model",
    "safe_repr",
    "safe_str",
    "write_keys",
]
