"""``python -m replay SNAPSHOT``: the summary, the warnings, then ``Replay.debug`` or
``Replay.post_mortem``, the same calls a notebook makes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .._describe.death import death_lines
from .._describe.summary import summary
from .._run.choose import require_terminal, resolve_debugger
from .._run.conditions import require_inputs
from .._run.debugger import Debugger
from .._run.drive import say
from .._run.verdict import Verdict
from .._session.replay import Replay
from .._terminal import for_terminal
from .args import EXIT_OK, EXIT_RAISED, UsageError, memory_limit
from .inspect_commands import open_for_cli

if TYPE_CHECKING:
    import argparse

__all__ = ["replay"]


def replay(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    debugger: Debugger | None = None
    if not ns.no_debug:
        debugger = resolve_debugger(ns.debugger, port=ns.port)
        if debugger is None:
            say(err, "PYTHONBREAKPOINT=0: running without a debugger.")
        elif ns.frames and debugger.post_mortem is None:
            raise UsageError(f"--frames needs pdb, ipdb or pudb; {debugger.name} cannot open them")
        else:
            require_terminal(debugger)
    for path in ns.source or []:
        if not os.path.isfile(path):
            what = (
                "is a directory"
                if os.path.isdir(path)
                else "is not a regular file"
                if os.path.exists(path)
                else "no such file"
            )
            raise UsageError(
                f"--source {path}: {what}; give a notebook (.ipynb), an nbconvert export or a "
                "script"
            )
    session = Replay(open_for_cli(ns, err))
    for line in summary(session.model, ns.snapshot) + death_lines(session.model):
        say(out, line)
    session.memory_limit = memory_limit(ns.memory_limit)
    _warn(err, "", "problems in the manifest", session.model.problems)
    _warn(err, "version differs: ", "versions differ", session.version_differences())
    # Said by debug() and post_mortem(), as in a notebook.
    session.locate_sources(ns.source or (), rerun=not ns.frames)
    if ns.frames:
        session.post_mortem(debugger or False, out=out, err=err)
        return EXIT_OK
    require_inputs(session.model, ns.snapshot)
    try:
        outcome = session.debug(debugger or False, out=out, err=err)
    finally:
        if debugger is not None and debugger.detach is not None:
            debugger.detach()  # our exit status is not the IDE's business
    passed = (Verdict.NO_ERROR, Verdict.SAME_RESULT, Verdict.NOT_COMPARED)
    return EXIT_OK if outcome.verdict in passed else EXIT_RAISED


_MAX_WARNINGS = 20


def _warn(err: TextIO, prefix: str, what: str, items: Sequence[object]) -> None:
    """One warning per item, at most :data:`_MAX_WARNINGS` (``info`` lists them all)."""
    for item in items[:_MAX_WARNINGS]:
        say(err, f"Warning: {prefix}{for_terminal(item, one_line=True)}")
    if len(items) > _MAX_WARNINGS:
        more = len(items) - _MAX_WARNINGS
        say(err, f"Warning: {more:,} more {what} (`python -m replay info` lists them all)")
