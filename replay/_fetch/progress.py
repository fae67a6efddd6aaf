"""Progress on stderr while a large snapshot loads, shown only once it is slow."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressReporter"]

_MiB = 1024 * 1024


class ProgressReporter:
    """A ``progress(done_bytes, total_bytes)`` callback for ``snapshot.open_snapshot``.

    Silent for the first ``delay`` seconds, so small snapshots print nothing;
    then one status line at most every ``interval`` seconds, redrawn in place
    on a terminal and written as separate lines otherwise.
    """

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        delay: float = 1.0,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.interval = interval
        self.clock = clock
        self._start = clock()
        self._last: float | None = None
        self._shown = False

    def __call__(self, done: int, total: int | None) -> None:
        now = self.clock()
        if now - self._start < self.delay:
            return
        if self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        self._write(self._line(done, total))

    def finish(self) -> None:
        """End the status line, if one was shown."""
        if self._shown and self._tty:
            self.stream.write("\n")
            self.stream.flush()

    @property
    def _tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _line(self, done: int, total: int | None) -> str:
        elapsed = self.clock() - self._start
        text = f"Loading {self.label}: {done / _MiB:,.1f} MiB"
        if total:
            text += f" of {total / _MiB:,.1f} MiB ({100 * done / total:.0f}%)"
        return text + f", {elapsed:.1f} s"

    def _write(self, line: str) -> None:
        self._shown = True
        if self._tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
