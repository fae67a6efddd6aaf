"""replay's own errors, beside snapshot's: each is a :class:`snapshot.SnapshotError`.

::

    snapshot.SnapshotError
    ├── NotReplayableError (also RuntimeError)    the snapshot lacks part of the call
    └── DebuggerUnavailableError (also ImportError)  no such debugger here, or it cannot be driven

The command line turns each into ``Error: ...`` and an exit status
(``replay._cli.args.EXIT_CODES``).
"""

from __future__ import annotations

from snapshot import SnapshotError

__all__ = ["DebuggerUnavailableError", "NotReplayableError"]


class NotReplayableError(SnapshotError, RuntimeError):
    """The snapshot lacks part of the call (input capture was off, or a piece was left out)."""


class DebuggerUnavailableError(SnapshotError, ImportError):
    """The requested debugger is not installed here or cannot be driven post-mortem."""
