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
    SnapshotConfigError,
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
from ._limits import ReadLimits, WriteLimits
from ._model.labels import death_label, failing_call, format_key, format_size
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
    GroupMember,
    Input,
    LostInput,
    Manifest,
    OnDemand,
    Origin,
    PieceRecord,
    PythonInfo,
    Shrunk,
    ShrunkInput,
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
    from ._capture.capturer import Capturer
    from ._capture.config import (
        CONFIG_KEYS,
        capture_settings,
        config_defaults,
        read_config,
        setting,
        setting_overrides,
        settings_values,
    )
    from ._capture.contents import task_section
    from ._capture.directory import make_private_dirs
    from ._capture.failure import CapturePolicy, LiveCall, TaskInfo
    from ._capture.memory import MemoryGuard
    from ._capture.outcome import CaptureOutcome
    from ._capture.plain import capture
    from ._capture.settings import CaptureSettings, default_snapshot_directory
    from ._capture.storm import SNAPSHOT_SUFFIX, Admission, StormGuard, failure_fingerprint
    from ._capture.upload import upload_snapshot
    from ._capture.warm import warm_up
    from ._capture.wrapper import CapturingCall, capture_failures, drop_own_frame, passes_through
    from ._chars import escape_code, shown_as_is
    from ._codehash import CompiledSource, code_objects, code_sha256, same_bytecode
    from ._inapp import failing_frame_index, is_library_frame
    from ._installed import provided_version
    from ._keys import read_key_file
    from ._read.opcodes import pickle_imports
    from ._render.escape import html_text
    from ._render.page import render_html
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
    # The capture core (Dask-free): what a host needs to capture failures.
    "CaptureOutcome": "._capture.outcome",
    "CapturePolicy": "._capture.failure",
    "CaptureSettings": "._capture.settings",
    "Capturer": "._capture.capturer",
    "CONFIG_KEYS": "._capture.config",
    "capture": "._capture.plain",
    "capture_settings": "._capture.config",
    "config_defaults": "._capture.config",
    "read_config": "._capture.config",
    "setting": "._capture.config",
    "setting_overrides": "._capture.config",
    "settings_values": "._capture.config",
    "CapturingCall": "._capture.wrapper",
    "LiveCall": "._capture.failure",
    "MemoryGuard": "._capture.memory",
    "SNAPSHOT_SUFFIX": "._capture.storm",
    "StormGuard": "._capture.storm",
    "Admission": "._capture.storm",
    "TaskInfo": "._capture.failure",
    "capture_failures": "._capture.wrapper",
    "default_snapshot_directory": "._capture.settings",
    "drop_own_frame": "._capture.wrapper",
    "failure_fingerprint": "._capture.storm",
    "make_private_dirs": "._capture.directory",
    "passes_through": "._capture.wrapper",
    "task_section": "._capture.contents",
    "upload_snapshot": "._capture.upload",
    "escape_code": "._chars",
    "shown_as_is": "._chars",
    "CompiledSource": "._codehash",
    "code_objects": "._codehash",
    "same_bytecode": "._codehash",
    "is_library_frame": "._inapp",
    "failing_frame_index": "._inapp",
    # Only for --key-file and the writer's settings.
    "read_key_file": "._keys",
    "provided_version": "._installed",
    "warm_up": "._capture.warm",
    "render_html": "._render.page",
    "html_text": "._render.escape",
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
    "CONFIG_KEYS",
    "DEFAULT_ENV_ALLOW",
    "DEFAULT_PATTERNS",
    "DYNAMIC_CODE",
    "FORMAT_VERSION",
    "KEYS_SUFFIX",
    "REDACTED",
    "SNAPSHOT_SUFFIX",
    "Admission",
    "Amended",
    "BufferRecord",
    "Call",
    "Capture",
    "CaptureOutcome",
    "CapturePolicy",
    "CaptureSettings",
    "Capturer",
    "CapturingCall",
    "ChainEntry",
    "CompiledSource",
    "Death",
    "DeathMemory",
    "Environment",
    "Error",
    "Frame",
    "GroupMember",
    "ImportScan",
    "Input",
    "LiveCall",
    "LostInput",
    "Manifest",
    "MemoryGuard",
    "OnDemand",
    "Origin",
    "PieceRecord",
    "Placeholder",
    "PythonInfo",
    "ReadLimits",
    "Redactor",
    "Shrunk",
    "ShrunkInput",
    "Snapshot",
    "SnapshotBuilder",
    "SnapshotConfigError",
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
    "StormGuard",
    "Summary",
    "Task",
    "TaskInfo",
    "WriteLimits",
    "Writer",
    "WrittenBy",
    "add_sources",
    "by_value_functions",
    "capture",
    "capture_failures",
    "capture_settings",
    "code_objects",
    "code_sha256",
    "config_defaults",
    "copy_of_keys_file",
    "death_label",
    "default_client_directory",
    "default_snapshot_directory",
    "drop_own_frame",
    "environment_info",
    "escape_code",
    "failing_call",
    "failing_frame_index",
    "failure_fingerprint",
    "format_key",
    "format_size",
    "html_text",
    "is_library_frame",
    "key_from_json",
    "key_to_json",
    "keys_file",
    "make_private_dirs",
    "open_snapshot",
    "parse_manifest",
    "passes_through",
    "pickle_imports",
    "provided_version",
    "read_config",
    "read_key_file",
    "read_keys",
    "read_manifest",
    "read_model",
    "render_html",
    "safe_repr",
    "safe_str",
    "same_bytecode",
    "setting",
    "setting_overrides",
    "settings_values",
    "shown_as_is",
    "task_section",
    "upload_snapshot",
    "warm_up",
    "write_keys",
]
