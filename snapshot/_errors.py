"""The one error hierarchy of dask-replay.

Every failure to read or write a snapshot is a :class:`SnapshotError`; each
subclass also inherits the builtin it resembles, so ``except ValueError`` keeps
working for callers who do not know this package::

    SnapshotError(Exception)
    ├── SnapshotReadError(OSError)                the file cannot be read
    │   └── SnapshotNotFoundError(FileNotFoundError)  no such file
    ├── SnapshotFormatError(ValueError)           not a snapshot, corrupt, unsafe
    │   ├── SnapshotTruncatedError                the file ends too early
    │   ├── SnapshotVersionError                  written by a newer major format
    │   └── SnapshotLimitError                    exceeds a read limit (bomb)
    ├── SnapshotSignatureError(ValueError)        HMAC missing, wrong or tampered
    ├── SnapshotKeyError(ValueError)              the key file is unreadable or empty
    ├── SnapshotUnpickleError(RuntimeError)       a piece fails to unpickle
    │   └── SnapshotModuleError(ImportError)      ... because a module is missing
    ├── SnapshotWriteError(OSError)               the file could not be written
    └── SnapshotConfigError(ValueError)           a snapshot.* setting has a bad value

Messages name the file, say what is wrong and what to do.  Foreign errors
(zstd, tarfile, pickle, OSError) are translated where they enter, with
``raise ... from exc``.
"""

from __future__ import annotations


class SnapshotError(Exception):
    """Base of every error raised by the ``snapshot`` package."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SnapshotReadError(SnapshotError, OSError):
    """The snapshot file cannot be opened or read (permissions, I/O error)."""


class SnapshotNotFoundError(SnapshotReadError, FileNotFoundError):
    """The snapshot file does not exist."""


class SnapshotFormatError(SnapshotError, ValueError):
    """The file is not a snapshot, or it is damaged or unsafe."""


class SnapshotTruncatedError(SnapshotFormatError):
    """The file ends before the snapshot does (an interrupted copy)."""


class SnapshotVersionError(SnapshotFormatError):
    """The snapshot was written by a format major version this reader lacks."""


class SnapshotLimitError(SnapshotFormatError):
    """The snapshot exceeds a read limit (size, member count, member size)."""


class SnapshotSignatureError(SnapshotError, ValueError):
    """The HMAC signature is missing, wrong, or the content was altered."""


class SnapshotKeyError(SnapshotError, ValueError):
    """An HMAC key file cannot be read or is empty."""


class SnapshotUnpickleError(SnapshotError, RuntimeError):
    """A stored piece failed to unpickle on this machine."""


class SnapshotModuleError(SnapshotUnpickleError, ImportError):
    """A module the pickle needs is not importable on this machine."""

    def __init__(self, message: str, *, path: str | None = None, module: str = "") -> None:
        SnapshotUnpickleError.__init__(self, message, path=path)
        self.module = module

    # ImportError.name is read by tooling; keep it pointing at the module.
    @property
    def name(self) -> str:  # type: ignore[override]
        return self.module


class SnapshotWriteError(SnapshotError, OSError):
    """The snapshot could not be written (disk full, read-only, permissions)."""


class SnapshotConfigError(SnapshotError, ValueError):
    """A ``snapshot.*`` setting has a value a capture cannot use (named, with the value)."""
