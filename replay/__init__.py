"""Replay a failed Dask task from its snapshot, on any machine, after the cluster is gone.

``replay.load(path)`` opens a snapshot written by ``cluster_hook``; the
:class:`Replay` it returns re-runs the failing call (``run``, ``replay``,
``debug``) or opens the frames captured at the raise (``post_mortem``).  The
command line is ``python -m replay`` (see ``replay._cli``).

Importing this package imports neither dask nor distributed.
"""

from __future__ import annotations

from ._debuggers import DEBUGGERS, DebuggerUnavailableError
from ._frames import CapturedFrame, build_traceback
from ._session import NotReplayableError, Replay, load
from ._verdict import Outcome, Verdict

__all__ = [
    "DEBUGGERS",
    "CapturedFrame",
    "DebuggerUnavailableError",
    "NotReplayableError",
    "Outcome",
    "Replay",
    "Verdict",
    "build_traceback",
    "load",
]
