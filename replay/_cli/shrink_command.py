"""``python -m replay shrink SNAPSHOT -o SMALL.tar.zst``: the inputs minimized while the
failure stays the same (``replay._shrink``); the original is never modified."""

from __future__ import annotations

import argparse
import os
import time
from typing import TextIO

from .._run.call import finish
from .._session.replay import Replay
from .._shrink.attempt import Judge
from .._shrink.engine import ShrinkRefused, shrink_call
from .._shrink.write import write_shrunk
from .._terminal import for_terminal
from .args import EXIT_OK, EXIT_REFUSED, UsageError, snapshot_key
from .inspect_commands import open_for_cli

__all__ = ["shrink"]


def shrink(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not hasattr(os, "fork"):
        raise UsageError("shrink runs each attempt in a forked process: POSIX only")
    if ns.budget <= 0 or (ns.timeout is not None and ns.timeout <= 0):
        raise UsageError("--budget and --timeout take a number of seconds above 0")
    if os.path.exists(ns.output):
        if os.path.exists(ns.snapshot) and os.path.samefile(ns.output, ns.snapshot):
            raise UsageError(f"-o {ns.output}: that is the snapshot itself, never modified")
        if not ns.force:
            raise UsageError(f"-o {ns.output}: the file exists; remove it, or --force")
    session = Replay(open_for_cli(ns, err))
    model = session.model
    try:
        judge = _judge(session)
        func, args, kwargs = session.call
        result = shrink_call(
            func,
            args,
            kwargs,
            judge,
            finish=finish,
            timeout=ns.timeout,
            budget=ns.budget,
            progress=_Progress(err),
        )
        write_shrunk(
            func,
            result,
            model,
            ns.snapshot,
            ns.output,
            judge,
            finish=finish,
            key=snapshot_key(ns),
            sources=session.sources,
        )
    except ShrinkRefused as exc:
        print(f"\nError: {for_terminal(str(exc), one_line=True)}", file=err, flush=True)
        return EXIT_REFUSED
    print("", file=err, flush=True)
    print(f"Kept the failure: {for_terminal(judge.describe(), one_line=True)}", file=out)
    for part in result.parts:
        label = for_terminal(f"{part.path} ({part.kind})", one_line=True)
        print(f"  {label}: {part.before:,} -> {part.after:,}", file=out)
    print(f"{result.attempts} attempts in {result.seconds:.1f} s.", file=out)
    if not result.complete:
        print("The --budget ran out first: smaller inputs may still fail.", file=out)
    print(f"Wrote {for_terminal(ns.output, one_line=True)}.", file=out)
    out.flush()
    return EXIT_OK


def _judge(session: Replay) -> Judge:
    model = session.model
    error, frames = model.error, model.frames
    if model.death is not None or error is None or not error.type or not error.module:
        raise ShrinkRefused(
            f"{session.path}: no exception was captured (a worker's death?): shrink keeps a "
            "raised exception; `python -m replay check` judges a death"
        )
    if not frames or not frames[-1].function:
        raise ShrinkRefused(f"{session.path}: no frame was captured: no line to keep failing at")
    last = frames[-1]
    function = (last.function or "").rpartition(".")[2]
    return Judge(error.type, error.module, function, last.lineno)


class _Progress:
    """One line on stderr: rewritten in place on a terminal, else at most once a second."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = bool(getattr(err, "isatty", lambda: False)())
        self.last = 0.0

    def __call__(self, attempts: int, seconds: float, label: str, units: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 1.0:
            return
        self.last = now
        line = f"shrink: attempt {attempts + 1}, {seconds:.0f} s, {label}: trying {units:,}"
        line = for_terminal(line, one_line=True)
        if self.tty:
            self.err.write("\r" + line[:100].ljust(100))
        else:
            self.err.write(line + "\n")
        self.err.flush()
