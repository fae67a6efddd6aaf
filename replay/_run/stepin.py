"""Stepping into a call that did not fail: pdb stops at the first line of the user's function.

A snapshot asked for of a task that finished (spec 4.13) has no exception to
stop at.  Its replay runs the call under pdb instead, which stops at the first
line of Python that belongs to neither the standard library, nor dask and the
libraries it runs tasks through, nor replay itself: the user's function, even
when the call is a dask task wrapping it (``run_spec(inputs)``).  ``q`` lets
the call run on to its end (its result is still compared); a function with no
such line (a builtin such as ``sum``) runs through, and the replay says so.
"""

from __future__ import annotations

import pdb
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._terminal import for_terminal
from .call import has_result
from .debugger import Debugger

if TYPE_CHECKING:
    import snapshot

__all__ = ["LIBRARIES", "driver", "step_in"]

Driven = Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]

#: Top-level packages whose frames are not the user's (matched as module name prefixes).
LIBRARIES = (
    "replay",
    "snapshot",
    "dask",
    "distributed",
    "toolz",
    "tlz",
    "cloudpickle",
    "numpy",
    "pandas",
    "pyarrow",
)


class _StepIn(pdb.Pdb):
    """pdb, stepping over library frames until the user's first line; ``q`` continues."""

    stopped = False

    def is_skipped_module(self, module_name: str | None) -> bool:
        top = str(module_name or "").partition(".")[0]
        return top in LIBRARIES or top in sys.stdlib_module_names

    def user_call(self, frame: types.FrameType, argument_list: Any) -> None:
        pass  # stop at the function's first line, not at its ``def``

    def interaction(self, frame: types.FrameType | None, traceback: Any) -> None:
        self.stopped = True
        super().interaction(frame, traceback)

    def do_quit(self, arg: str) -> bool | None:
        """q(uit): stop debugging; the call runs on to its end and its result is compared."""
        self.message("(the call runs on to its end without the debugger)")
        return bool(self.do_continue(arg))

    do_q = do_exit = do_quit


def step_in(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func(*args, **kwargs)`` under pdb, stopped at the user's first line."""
    debugger = _StepIn(skip=[f"{name}.*" for name in LIBRARIES])
    inner = getattr(func, "func", func)  # a dask Task: the function it wraps
    name = getattr(inner, "__qualname__", None) or type(inner).__qualname__
    print(
        f"Stepping into {for_terminal(name, one_line=True)}: pdb stops at the first line of "
        "your code (n next line, s step in, c continue, q run to the end).",
        flush=True,
    )
    try:
        return debugger.runcall(func, *args, **kwargs)
    finally:
        if not debugger.stopped:
            print(
                "No line of your code ran (a builtin, or library code only): nothing to stop at.",
                flush=True,
            )


def driver(debugger: Debugger | None, model: snapshot.Manifest) -> Driven | None:
    """How a replay runs the call under ``debugger``: the debugger's own ``call`` (debugpy),
    stepping in (pdb) for a snapshot of a finished task, or plainly (None)."""
    if debugger is None:
        return None
    if debugger.call is None and has_result(model):
        return debugger.step_in
    return debugger.call
