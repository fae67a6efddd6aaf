"""A debugger replay can hand a failure to: the :class:`Debugger` record, and importing one.

``replay._run.choose`` makes the record for pdb, ipdb, pudb or what
``PYTHONBREAKPOINT`` names; ``replay._run.debugpy`` makes debugpy's.
"""

from __future__ import annotations

import importlib
import importlib.util
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from .._errors import DebuggerUnavailableError

if TYPE_CHECKING:
    from .._sources.report import SourceReport
    from .call import Call

    #: ``attach(snapshot_path, (func, args, kwargs), sources, out, err)``: wait for an IDE.
    Attach = Callable[[str, Call, SourceReport, TextIO, TextIO], None]

__all__ = ["Debugger", "import_debugger", "require_installed"]

# The package that provides each debugger module, for the "install it" hint.
_PACKAGES = {"ipdb": "ipdb", "pudb": "pudb", "debugpy": "debugpy"}


@dataclass(frozen=True)
class Debugger:
    """A debugger replay can hand a failure to.

    ``post_mortem(tb, exc)`` opens the debugger on a traceback.  A debugger
    with ``attaches`` set (debugpy) cannot do that: ``attach(...)`` waits for
    an IDE (given the snapshot's path, the call and the report of its verified
    sources), ``call(func, args, kwargs)`` runs the call where the IDE stops
    it, and ``detach()``, once the command line is done with the call, stops
    reporting to the IDE (see ``replay._run.debugpy``).
    """

    name: str
    post_mortem: Callable[[types.TracebackType, BaseException | None], None] | None
    attach: Attach | None = None
    call: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None
    detach: Callable[[], None] | None = None
    #: Runs a call that did not fail (a snapshot of a finished task) stopped at its
    #: first line (pdb's: ``replay._run.stepin``); None: the call just runs.
    step_in: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None
    # A full-screen debugger cannot take its commands from a pipe.
    needs_terminal: bool = False

    @property
    def attaches(self) -> bool:
        return self.attach is not None


def require_installed(module: str) -> None:
    """Raise :class:`DebuggerUnavailableError` naming the package when ``module`` is not here."""
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
