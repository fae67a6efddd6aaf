"""Choosing the debugger: pdb, ipdb, pudb, debugpy, or what ``PYTHONBREAKPOINT`` names.

``pdb``, ``ipdb`` and ``pudb`` open post-mortem on a traceback (the replayed
one, or one rebuilt from captured frames).  ``debugpy`` cannot open a dead
traceback: it listens for an IDE instead, and the call is re-run once the IDE
has attached, stopping just before it (``replay._run.debugpy``).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Mapping
from typing import Literal

from .._errors import DebuggerUnavailableError
from .debugger import Debugger, import_debugger, require_installed

__all__ = [
    "DEBUGGERS",
    "DebuggerChoice",
    "choose",
    "require_terminal",
    "resolve_debugger",
]

DEBUGGERS = ("pdb", "ipdb", "pudb", "debugpy")

#: A debugger's name, a :class:`Debugger`, ``None`` for the default (pdb, or what
#: ``PYTHONBREAKPOINT`` names), or ``False`` for none at all.
DebuggerChoice = str | Debugger | Literal[False] | None

# PYTHONBREAKPOINT values (see PEP 553) that name a debugger we know how to drive.
_HOOKS = {
    "pdb.set_trace": "pdb",
    "ipdb.set_trace": "ipdb",
    "pudb.set_trace": "pudb",
    "debugpy.breakpoint": "debugpy",
}


def choose(debugger: DebuggerChoice) -> Debugger | None:
    """The :class:`Debugger` a ``debugger=`` argument of the Python API asks for, or None."""
    if debugger is False:
        return None
    if isinstance(debugger, Debugger):
        return debugger
    return resolve_debugger(debugger)


def resolve_debugger(
    name: str | None, *, environ: Mapping[str, str] | None = None, port: int = 5678
) -> Debugger | None:
    """Return the debugger to use, or ``None`` when ``PYTHONBREAKPOINT=0`` disables it.

    An explicit ``name`` wins; otherwise ``PYTHONBREAKPOINT`` is honoured as
    ``breakpoint()`` would honour it, and pdb is the default.  Raises
    :class:`DebuggerUnavailableError` naming the package to install.
    """
    env = os.environ if environ is None else environ
    if name is None:
        hook = env.get("PYTHONBREAKPOINT", "").strip()
        if hook == "0":
            return None
        if not hook:
            name = "pdb"
        elif hook in _HOOKS:
            name = _HOOKS[hook]
        else:
            return _from_hook(hook)
    if name not in DEBUGGERS:
        raise DebuggerUnavailableError(
            f"unknown debugger {name!r}; choose one of {', '.join(DEBUGGERS)}."
        )
    require_installed(name)
    if name in ("pdb", "ipdb"):
        from .stepin import ipdb_step_in, pdb_step_in

        if name == "pdb":
            return Debugger("pdb", _pdb_post_mortem, step_in=pdb_step_in)
        return Debugger("ipdb", _ipdb_post_mortem, step_in=ipdb_step_in)
    if name == "pudb":
        return Debugger("pudb", _pudb_post_mortem, needs_terminal=True)
    from .debugpy import debugpy_debugger

    return debugpy_debugger(port)


def _from_hook(hook: str) -> Debugger:
    """A ``PYTHONBREAKPOINT=module.function`` naming another debugger: use its ``post_mortem``."""
    module_name, _, _ = hook.rpartition(".")
    if not module_name:
        module_name = hook
    require_installed(module_name)
    module = import_debugger(module_name)
    post_mortem = getattr(module, "post_mortem", None)
    if not callable(post_mortem):
        raise DebuggerUnavailableError(
            f"PYTHONBREAKPOINT={hook!r} names a debugger without post_mortem(); "
            "pick one with `--debugger pdb|ipdb|pudb|debugpy`."
        )

    def run(tb: types.TracebackType, exc: BaseException | None) -> None:
        post_mortem(tb)

    return Debugger(module_name, run)


def _pdb_post_mortem(tb: types.TracebackType, exc: BaseException | None) -> None:
    import pdb

    pdb.post_mortem(tb)


def _ipdb_post_mortem(tb: types.TracebackType, exc: BaseException | None) -> None:
    import_debugger("ipdb").post_mortem(tb)


def _pudb_post_mortem(tb: types.TracebackType, exc: BaseException | None) -> None:
    pudb = import_debugger("pudb")
    pudb.post_mortem(tb, type(exc) if exc is not None else None, exc)


def require_terminal(debugger: Debugger) -> None:
    """Refuse a full-screen debugger when standard input is not a terminal."""
    if debugger.needs_terminal and not (sys.stdin is not None and sys.stdin.isatty()):
        raise DebuggerUnavailableError(
            f"{debugger.name} needs a terminal, but standard input is not one; "
            "use `--debugger pdb` to pipe commands in."
        )
