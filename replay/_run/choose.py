"""Choosing and driving the debugger: pdb, ipdb, pudb, debugpy, or ``PYTHONBREAKPOINT``.

``pdb``, ``ipdb`` and ``pudb`` open post-mortem on a traceback (the replayed
one, or one rebuilt from captured frames).  ``debugpy`` cannot open a dead
traceback: it listens for an IDE instead, and the call is re-run once the IDE
has attached, stopping just before it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from snapshot import SnapshotError

if TYPE_CHECKING:
    from .._session import Replay

__all__ = [
    "DEBUGGERS",
    "Debugger",
    "DebuggerUnavailableError",
    "import_debugger",
    "require_terminal",
    "resolve_debugger",
]

DEBUGGERS = ("pdb", "ipdb", "pudb", "debugpy")

# PYTHONBREAKPOINT values (see PEP 553) that name a debugger we know how to drive.
_HOOKS = {
    "pdb.set_trace": "pdb",
    "ipdb.set_trace": "ipdb",
    "pudb.set_trace": "pudb",
    "debugpy.breakpoint": "debugpy",
}

# The package that provides each debugger module, for the "install it" hint.
_PACKAGES = {"ipdb": "ipdb", "pudb": "pudb", "debugpy": "debugpy"}


class DebuggerUnavailableError(SnapshotError, ImportError):
    """The requested debugger is not installed here or cannot be driven post-mortem."""


@dataclass(frozen=True)
class Debugger:
    """A debugger replay can hand a failure to.

    ``post_mortem(tb, exc)`` opens the debugger on a traceback.  A debugger
    with ``attaches`` set (debugpy) cannot do that: ``attach(session, out, err)``
    waits for an IDE, ``call(func, args, kwargs)`` runs the call where the IDE
    stops it, and ``detach()``, once the command line is done with the call,
    stops reporting to the IDE (see ``replay._run.debugpy``).
    """

    name: str
    post_mortem: Callable[[types.TracebackType, BaseException | None], None] | None
    attach: Callable[[Replay, TextIO, TextIO], None] | None = None
    call: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None
    detach: Callable[[], None] | None = None
    # A full-screen debugger cannot take its commands from a pipe.
    needs_terminal: bool = False

    @property
    def attaches(self) -> bool:
        return self.attach is not None


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
    _require(name)
    if name == "pdb":
        return Debugger("pdb", _pdb_post_mortem)
    if name == "ipdb":
        return Debugger("ipdb", _ipdb_post_mortem)
    if name == "pudb":
        return Debugger("pudb", _pudb_post_mortem, needs_terminal=True)
    from .debugpy import debugpy_debugger

    return debugpy_debugger(port)


def _require(module: str) -> None:
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        package = _PACKAGES.get(module, module)
        raise DebuggerUnavailableError(
            f"the debugger {module!r} is not installed here; "
            f"install it with `python -m pip install {package}`, or use `--debugger pdb`."
        )


def import_debugger(module: str) -> types.ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = _PACKAGES.get(module, module)
        raise DebuggerUnavailableError(
            f"the debugger {module!r} cannot be imported ({exc}); "
            f"reinstall it with `python -m pip install {package}`, or use `--debugger pdb`."
        ) from exc


def _from_hook(hook: str) -> Debugger:
    """A ``PYTHONBREAKPOINT=module.function`` naming another debugger: use its ``post_mortem``."""
    module_name, _, _ = hook.rpartition(".")
    if not module_name:
        module_name = hook
    _require(module_name)
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
