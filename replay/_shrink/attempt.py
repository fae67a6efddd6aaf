"""One attempt: the call with candidate inputs, in a forked child of the process that
loaded the data once, judged "the same failure" or not.

The same failure is the captured exception's type (qualified name and module)
raised at the same line of the same function (the innermost frame).  The child
inherits the loaded call (copy-on-write: nothing is unpickled again), builds
the candidate itself, writes one byte to a pipe and ends with ``os._exit``; a
child that takes longer than the attempt's timeout is killed, and a crash or a
hang counts as another outcome.  POSIX only (``os.fork``).
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Judge", "run_attempt"]

SAME, OTHER = b"S", b"O"


class Judge:
    """Whether an exception is the captured failure: same type, same function, same line."""

    def __init__(self, error_type: str, error_module: str, function: str, line: int | None):
        self.type, self.module = error_type, error_module
        self.function, self.line = function, line

    def same(self, exception: BaseException) -> bool:
        kind = type(exception)
        if kind.__qualname__ != self.type or kind.__module__ != self.module:
            return False
        tb = exception.__traceback__
        if tb is None:
            return False
        while tb.tb_next is not None:
            tb = tb.tb_next
        if tb.tb_frame.f_code.co_name != self.function:
            return False
        return self.line is None or tb.tb_lineno == self.line

    def describe(self) -> str:
        at = f", line {self.line}" if self.line is not None else ""
        return f"{self.type} in {self.function}{at}"


def run_attempt(call: Callable[[], Any], judge: Judge, timeout: float | None) -> bool:
    """Fork, run ``call()`` in the child; True when it raised the same failure."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        outcome = OTHER
        try:
            os.close(read)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            call()
        except BaseException as exc:
            try:
                outcome = SAME if judge.same(exc) else OTHER
            except BaseException:
                outcome = OTHER
        finally:
            try:
                os.write(write, outcome)
            finally:
                os._exit(0)
    os.close(write)
    try:
        return _wait(pid, read, timeout) == SAME
    finally:
        os.close(read)


def _wait(pid: int, read: int, timeout: float | None) -> bytes:
    deadline = None if timeout is None else time.monotonic() + timeout
    data = b""
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([read], [], [], left)
        if not ready:  # timed out
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return OTHER
        chunk = os.read(read, 1)
        if not chunk:  # the child ended without a word (a crash)
            break
        data += chunk
        break
    os.waitpid(pid, 0)
    return data or OTHER
