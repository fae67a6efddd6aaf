"""The public API of ``snapshot``: pinned, sorted, and free of Dask at import time."""

from __future__ import annotations

import json
import subprocess
import sys

import snapshot

EXPORTED = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert snapshot.__all__ == EXPORTED
    # isort order, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert snapshot.__all__ == sorted(
        snapshot.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )


def test_every_export_exists_and_is_public() -> None:
    for name in snapshot.__all__:
        obj = getattr(snapshot, name)
        module = getattr(obj, "__module__", "snapshot")
        assert module.startswith("snapshot"), (name, module)


def test_public_names_not_exported_are_modules_only() -> None:
    # "@py_builtins" and "@pytest_ar": pytest's assertion rewriting, which covers
    # every package of a distribution that declares a pytest11 plugin (ours does).
    public = {n for n in vars(snapshot) if not n.startswith(("_", "@"))}
    assert public - set(snapshot.__all__) <= {"annotations"}


def test_error_hierarchy() -> None:
    """The tree drawn in snapshot/_errors.py; each error is also the builtin it resembles."""
    from snapshot import (
        SnapshotError,
        SnapshotFormatError,
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

    expected = {
        SnapshotReadError: (SnapshotError, OSError),
        SnapshotNotFoundError: (SnapshotReadError, FileNotFoundError),
        SnapshotFormatError: (SnapshotError, ValueError),
        SnapshotTruncatedError: (SnapshotFormatError,),
        SnapshotVersionError: (SnapshotFormatError,),
        SnapshotLimitError: (SnapshotFormatError,),
        SnapshotSignatureError: (SnapshotError, ValueError),
        SnapshotUnpickleError: (SnapshotError, RuntimeError),
        SnapshotModuleError: (SnapshotUnpickleError, ImportError),
        SnapshotWriteError: (SnapshotError, OSError),
    }
    for error, bases in expected.items():
        for base in bases:
            assert issubclass(error, base), (error, base)
    exc = SnapshotModuleError("m", path="/x", module="wigglymod")
    assert exc.name == exc.module == "wigglymod" and exc.path == "/x" and str(exc) == "m"


def test_format_version() -> None:
    assert snapshot.FORMAT_VERSION == "1.1"


def test_import_does_not_import_dask() -> None:
    code = (
        "import json, sys, snapshot\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('dask', 'distributed', 'numpy', 'pandas'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []
