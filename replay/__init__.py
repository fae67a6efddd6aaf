"""Replay a failed Dask task from its snapshot, on any machine, after the cluster is gone.

``replay.load(path)`` opens a snapshot written by ``cluster_hook``; the
:class:`Replay` it returns re-runs the failing call (``run``, ``replay``,
``debug``) or opens the frames captured at the raise (``post_mortem``).  The
command line is ``python -m replay`` (see ``replay._cli``).

Importing this package imports neither dask nor distributed, and loads its
members on first use, so that ``python -m replay info`` imports only what
reading a manifest needs.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from ._check.api import check
    from ._check.verdicts import CheckResult, CheckVerdict
    from ._errors import DebuggerUnavailableError, NotReplayableError
    from ._frames import CapturedFrame, build_traceback
    from ._run.choose import DEBUGGERS
    from ._run.verdict import Outcome, Verdict
    from ._session.load import load
    from ._session.replay import Replay
    from ._shortcuts import debug, post_mortem

_LAZY = {
    "CheckResult": "._check.verdicts",
    "CheckVerdict": "._check.verdicts",
    "DEBUGGERS": "._run.choose",
    "CapturedFrame": "._frames",
    "DebuggerUnavailableError": "._errors",
    "NotReplayableError": "._errors",
    "Outcome": "._run.verdict",
    "Replay": "._session.replay",
    "Verdict": "._run.verdict",
    "build_traceback": "._frames",
    "check": "._check.api",
    "debug": "._shortcuts",
    "load": "._session.load",
    "post_mortem": "._shortcuts",
    # IPython's ``%load_ext replay`` (``%debug`` after a failed task): not in __all__.
    "load_ipython_extension": "._ipython",
    "unload_ipython_extension": "._ipython",
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
    "DEBUGGERS",
    "CapturedFrame",
    "CheckResult",
    "CheckVerdict",
    "DebuggerUnavailableError",
    "NotReplayableError",
    "Outcome",
    "Replay",
    "Verdict",
    "build_traceback",
    "check",
    "debug",
    "load",
    "post_mortem",
]
