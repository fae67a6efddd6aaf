"""The two things a user does with a failure, in one call each.

``replay.debug(x)`` re-runs the failing call under a debugger;
``replay.post_mortem(x)`` opens the frames captured at the raise.  ``x`` is
anything :func:`replay.load` takes: a snapshot's path, a failed ``Future``, or
the exception the client raised.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._fetch.target import FutureLike
    from ._run.choose import DebuggerChoice
    from ._run.verdict import Outcome


def debug(
    target: str | os.PathLike[str] | BaseException | FutureLike,
    debugger: DebuggerChoice = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    **load_options: Any,
) -> Outcome:
    """``load(target).debug(debugger)``: re-run the call, post-mortem at the raise.

    ``load_options`` (``key``, ``allow_unsigned``, ``limits``) go to :func:`replay.load`;
    ``debugger=False`` re-runs without one and only reports the outcome.
    """
    from ._session.load import load

    return load(target, **load_options).debug(debugger, out=out, err=err)


def post_mortem(
    target: str | os.PathLike[str] | BaseException | FutureLike,
    debugger: DebuggerChoice = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    **load_options: Any,
) -> None:
    """``load(target).post_mortem(debugger)``: the captured frames, with their locals."""
    from ._session.load import load

    load(target, **load_options).post_mortem(debugger, out=out, err=err)
