"""What ``check`` says of one snapshot: fails, fixed, changed or cannot run, and why.

The judging is done in the child process (``replay._check.child``), which
knows the new exception; the parent gets a :class:`CheckResult` back as JSON.
"""

from __future__ import annotations

import enum
import os
import types
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from .._terminal import for_terminal

if TYPE_CHECKING:
    import snapshot

__all__ = ["CheckResult", "CheckVerdict", "raised_in", "same_failure"]


class CheckVerdict(enum.Enum):
    """How a snapshot's call ends with today's code."""

    FAILS = "fails"  # the same exception type, raised in the same function
    FIXED = "fixed"  # the call returns (a death: completes under its recorded conditions)
    CHANGED = "changed"  # another exception, raised elsewhere, a hang or a crash
    CANNOT_RUN = "cannot run"  # a module missing, a signature not verified, no inputs
    # A snapshot asked for of a task that finished (spec 4.13): its result compared.
    SAME = "same"  # returns the value the task returned on the cluster
    DIFFERS = "differs"  # returns another value, or raises


@dataclass(frozen=True)
class CheckResult:
    """One snapshot checked.  Every text is as found; :meth:`line` escapes it for a terminal."""

    path: str
    verdict: CheckVerdict
    #: Why, in one sentence: the new exception, the crash, or why it cannot run.
    reason: str = ""
    task: str | None = None
    #: The captured failure: ``"ZeroDivisionError in recip"`` (or how the worker died).
    captured: str | None = None
    #: Which version of the function ran: its module's file, or a by-value definition's origin.
    ran: str | None = None
    #: The traceback of this run (None when it returned or did not run).
    traceback: str | None = None
    #: The traceback captured on the worker.
    captured_traceback: str | None = None
    seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["verdict"] = self.verdict.value
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any], path: str) -> CheckResult:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in document.items() if k in known}
        values["path"] = path
        values["verdict"] = CheckVerdict(document.get("verdict"))
        return cls(**values)

    def line(self) -> str:
        """The row of the table: verdict, task, captured failure, file."""
        task = for_terminal(self.task or "?", one_line=True)
        captured = for_terminal(self.captured or "?", one_line=True)
        where = for_terminal(os.path.relpath(self.path) if _local(self.path) else self.path)
        return f"{self.verdict.value:<11} {task:<24} {captured:<36} {where}"

    def details(self) -> list[str]:
        """The lines below the row: why, and which version ran."""
        lines = []
        if self.reason:
            lines.append(f"    {for_terminal(self.reason, one_line=True)}")
        if self.ran:
            lines.append(f"    ran: {for_terminal(self.ran, one_line=True)}")
        return lines


def _local(path: str) -> bool:
    return "://" not in path


def raised_in(tb: types.TracebackType | None) -> tuple[str | None, str | None, int | None]:
    """``(module, function, line)`` of the innermost frame of ``tb``."""
    if tb is None:
        return None, None, None
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    module = frame.f_globals.get("__name__")
    return (module if isinstance(module, str) else None), frame.f_code.co_name, tb.tb_lineno


def same_failure(model: snapshot.Manifest, exception: BaseException) -> bool:
    """The same exception type (qualified name and module), raised in the same function."""
    error = model.error
    kind = type(exception)
    if error is None or kind.__qualname__ != error.type or kind.__module__ != error.module:
        return False
    if not model.frames:
        return True  # the worker recorded no frame: the type is all there is to compare
    captured = model.frames[-1]
    module, function, _ = raised_in(exception.__traceback__)
    name = (captured.function or "").rpartition(".")[2]
    if name != function:
        return False
    return captured.module is None or module is None or captured.module == module
