"""Stepping into a call that did not fail: pdb (or ipdb) stops at the first line of the user's code.

A snapshot asked for of a task that finished (spec 4.13) has no exception to
stop at.  Its replay runs the call under the debugger instead, which stops at
the first line of Python that is not library code by the one rule the page and
``info`` follow (``snapshot.is_library_frame``: installed packages, the standard
library, dask and the libraries it runs tasks through, replay itself): the
user's function, even when the call is a dask task wrapping it
(``run_spec(inputs)``).
``q`` lets the call run on to its end (its result is still compared); a
function with no such line (a builtin such as ``sum``) runs through, and the
replay says so.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import snapshot

from .._terminal import for_terminal
from .call import has_result
from .debugger import Debugger, import_debugger

if TYPE_CHECKING:
    import pdb

__all__ = ["driver", "ipdb_step_in", "pdb_step_in"]

Driven = Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]


class _Seen(NamedTuple):
    """What ``snapshot.is_library_frame`` reads of a frame, taken from a live one."""

    filename: str
    module: str | None


def _library(frame: types.FrameType) -> bool:
    """Whether a live frame is library code: the one rule ``info`` and the page follow."""
    module = frame.f_globals.get("__name__")
    return snapshot.is_library_frame(
        _Seen(frame.f_code.co_filename, module if isinstance(module, str) else None)
    )


def pdb_step_in(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func(*args, **kwargs)`` under pdb, stopped at the user's first line."""
    import pdb

    return _step_in(pdb.Pdb(), "pdb", func, args, kwargs)


def ipdb_step_in(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The same under ipdb (IPython's debugger, as ``ipdb`` configures it)."""
    init = import_debugger("ipdb.__main__")._init_pdb
    return _step_in(init(), "ipdb", func, args, kwargs)


def _step_in(
    debugger: pdb.Pdb,
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    stopped: list[bool] = []
    interaction = debugger.interaction

    def stop(frame: types.FrameType | None, traceback: Any) -> None:
        stopped.append(True)
        interaction(frame, traceback)

    def run_on(arg: str) -> bool:
        debugger.message("(the call runs on to its end without the debugger)")
        return bool(debugger.do_continue(arg))

    # Only this instance changes: library frames skipped, no stop at the ``def`` line
    # (the first line of the body is the first stop), and quitting runs the call on.
    stop_here = debugger.stop_here
    debugger.stop_here = lambda frame: not _library(frame) and stop_here(frame)  # type: ignore[method-assign]
    debugger.user_call = lambda frame, argument_list: None  # type: ignore[method-assign]
    debugger.interaction = stop  # type: ignore[method-assign]
    debugger.do_quit = debugger.do_q = debugger.do_exit = run_on  # type: ignore[method-assign]
    inner = getattr(func, "func", func)  # a dask Task: the function it wraps
    shown = getattr(inner, "__qualname__", None) or type(inner).__qualname__
    print(
        f"Stepping into {for_terminal(shown, one_line=True)}: {name} stops at the first line of "
        "your code (n next line, s step in, c continue, q run to the end).",
        flush=True,
    )
    try:
        return debugger.runcall(func, *args, **kwargs)
    finally:
        if not stopped:
            print(
                "No line of your code ran (a builtin, or library code only): nothing to stop at.",
                flush=True,
            )


def driver(debugger: Debugger | None, model: snapshot.Manifest) -> Driven | None:
    """How a replay runs the call under ``debugger``: the debugger's own ``call`` (debugpy),
    stepping in (pdb, ipdb) for a snapshot of a finished task, or plainly (None)."""
    if debugger is None:
        return None
    if debugger.call is None and has_result(model):
        return debugger.step_in
    return debugger.call
