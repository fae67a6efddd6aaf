"""Replaying a worker's death: say how it died, then re-run the call as the worker ran it.

A death snapshot (its manifest has a ``death`` section, written by
``cluster_hook`` when a worker process died running the task) holds no
exception and no frames: it holds how the process ended, the Python stacks
faulthandler wrote at the fatal signal, and the call.  :func:`death_lines`
says all that; :func:`death_conditions` re-creates the worker's conditions
around the call:

* the worker's memory limit as this process's data limit
  (``RLIMIT_DATA``, the soft limit only, restored afterwards), so that an
  allocation past it raises ``MemoryError`` at the line that made it, where
  the worker's nanny would have killed the process;
* ``os._exit`` raising :class:`ProcessExit` at its caller instead of ending
  the replay;
* faulthandler on stderr, so that a segfault that reproduces at least prints
  its stack before this process ends too.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeGuard

from .summary import format_size
from .._terminal import for_terminal, terminal_lines

if TYPE_CHECKING:  # info and list import this module: keep their path lean
    import snapshot

    from .._run.verdict import Outcome

__all__ = [
    "ProcessExit",
    "death_conditions",
    "death_info",
    "death_label",
    "death_lines",
    "describe_death_outcome",
    "is_death",
    "parse_memory_limit",
]

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([a-zA-Z]*)\s*$")


class ProcessExit(BaseException):
    """``os._exit(status)`` was called by the replayed call; the worker ended there."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status

    def __str__(self) -> str:
        return f"os._exit({self.status}) called: on the worker this ended the process"


def parse_memory_limit(text: str) -> int | None:
    """``"300MB"``, ``"1.5 GiB"``, ``"314572800"`` -> bytes; ``"none"`` or ``"0"`` -> None."""
    if text.strip().lower() in ("none", "off", "0"):
        return None
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(
            f"--memory-limit {text!r}: expected a size such as 300MB, 1.5GiB or 314572800, or none"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def death(manifest: snapshot.Manifest) -> snapshot.Death | None:
    """The typed ``death`` section (spec 4.10), or None for an ordinary failure."""
    return manifest.death


def is_death(manifest: snapshot.Manifest) -> bool:
    """Whether the snapshot records a worker that died, rather than an exception."""
    return manifest.death is not None


def death_label(manifest: snapshot.Manifest) -> str:
    """``out of memory``, ``SIGSEGV``, ``exit status 1``: how the worker died, in a word."""
    section = manifest.death
    cause = section.cause if section is not None else None
    if section is None or cause is None:
        return "worker died"
    if cause == "memory":
        return "out of memory"
    if cause == "signal":
        return _text(section.signal_name or f"signal {section.signal}")
    if cause == "exit":
        return _text(f"exit status {section.exit_code}")
    return "worker died"


def _text(value: object) -> str:
    return for_terminal(value, one_line=True)


def death_lines(manifest: snapshot.Manifest, *, stacks: bool = True) -> list[str]:
    """How the worker died, its memory, what was lost, and (``stacks``) the stacks at death.

    Every string from the file is escaped for the terminal.
    """
    section = manifest.death
    if section is None:
        return []
    summary = section.summary if section.summary is not None else "?"
    lines = ["", "The worker died running this task:", f"  {_text(summary)}"]
    facts = []
    if _count(section.memory_limit):
        facts.append(f"memory limit {format_size(section.memory_limit)}")
    if _count(section.rss_at_kill):
        facts.append(f"RSS when the nanny killed it {format_size(section.rss_at_kill)}")
    if section.memory is not None and _count(section.memory.process):
        facts.append(f"RSS at its last heartbeat {format_size(section.memory.process)}")
    if facts:
        lines.append("  " + ", ".join(facts))
    where = [f"worker {_text(section.worker)}"]
    if section.host:
        where.append(f"host {_text(section.host)}")
    if _count(section.pid):
        where.append(f"pid {section.pid}")
    lines.append("  " + ", ".join(where))
    for entry in section.lost_inputs:
        lines.append(f"  input {_text(repr(entry.key))} lost: {_text(entry.reason)}")
    text = section.stacks
    if text:
        if stacks:
            lines += ["", "Python stacks at the worker's death (faulthandler):"]
            lines += ["  " + line for line in terminal_lines(text.rstrip("\n"))]
        else:
            lines.append("  Python stacks at its death: below, under 'Traceback on the worker'")
    else:
        lines.append(f"  no Python stacks: {_text(section.stacks_reason or 'none written')}")
    return lines


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def death_info(manifest: snapshot.Manifest, text: str) -> str:
    """``info``'s text with the death told after its header (the stacks stay at the end)."""
    lines = death_lines(manifest, stacks=False)
    if not lines:
        return text
    head, sep, rest = text.partition("\n\n")
    return head + "\n" + "\n".join(lines) + sep + rest


def lost_inputs(manifest: snapshot.Manifest) -> list[str]:
    section = manifest.death
    return [] if section is None else [_text(repr(e.key)) for e in section.lost_inputs]


def _raise_exit(status: int = 0) -> NoReturn:
    raise ProcessExit(int(status))


#: Set while a body runs under :func:`death_conditions` (a nested use is a no-op).
_active: list[bool] = []


@contextlib.contextmanager
def death_conditions(
    manifest: snapshot.Manifest, memory_limit: int | str | None = "worker"
) -> Iterator[list[str]]:
    """Run the body under the dead worker's conditions; yields lines to print first.

    ``memory_limit`` is ``"worker"`` (the limit recorded in the snapshot), a
    number of bytes, or None for no limit.  Re-entrant: inside another use it
    changes nothing (``Replay.replay`` applies it, and so does the CLI around it).
    """
    section = manifest.death
    if section is None or _active:  # an ordinary failure, or already under its conditions
        yield []
        return
    _active.append(True)
    limit = section.memory_limit if memory_limit == "worker" else memory_limit
    notes: list[str] = []
    restore_limit = None
    if _count(limit):
        restore_limit, note = _limit_data(limit)
        notes.append(note)
    saved_exit = os._exit
    os._exit = _raise_exit
    enabled = faulthandler.is_enabled()
    with contextlib.suppress(Exception):
        faulthandler.enable(file=sys.stderr, all_threads=True)
    try:
        yield notes
    finally:
        _active.clear()
        os._exit = saved_exit
        if not enabled:
            faulthandler.disable()
        if restore_limit is not None:
            restore_limit()


def _limit_data(limit: int) -> tuple[Any, str]:
    try:
        import resource
    except ImportError:  # not on this platform
        return None, "No memory limit applied: the resource module is not available here."
    kind = getattr(resource, "RLIMIT_DATA", None) or resource.RLIMIT_AS
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY and limit > hard:
        limit = hard
    used = _data_in_use()
    try:
        resource.setrlimit(kind, (limit, hard))
    except (ValueError, OverflowError, OSError) as exc:
        return None, f"No memory limit applied: setrlimit refused {limit}: {exc}."

    def restore() -> None:
        resource.setrlimit(kind, (soft, hard))

    held = f"; this process already holds {format_size(used)} of it" if used else ""
    return restore, (
        f"Re-running under the worker's memory limit: {format_size(limit)} of data "
        f"(RLIMIT_DATA){held}; --memory-limit changes it, --memory-limit none lifts it."
    )


def _data_in_use() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def judge_death(
    manifest: snapshot.Manifest, exception: BaseException | None, result: object
) -> Outcome | None:
    """The verdict of a death's replay (None for a failure): reproduced when the call
    ran out of memory where the nanny killed the worker, or called ``os._exit`` with the
    worker's exit status."""
    from .._run.verdict import Outcome, Verdict

    section = manifest.death
    if section is None:
        return None
    if exception is None:
        return Outcome(Verdict.NO_ERROR, None, result)
    same = (isinstance(exception, MemoryError) and section.cause == "memory") or (
        isinstance(exception, ProcessExit)
        and section.cause == "exit"
        and section.exit_code == exception.status
    )
    return Outcome(Verdict.REPRODUCED if same else Verdict.DIFFERENT_ERROR, exception)


def describe_death_outcome(manifest: snapshot.Manifest, outcome: Outcome) -> str | None:
    """One sentence: did the replay die the way the worker died?  None for a failure."""
    from .._run.verdict import Verdict

    section = manifest.death
    if section is None:
        return None
    label = death_label(manifest)
    exception = outcome.exception
    if outcome.verdict is Verdict.NO_ERROR:
        return (
            f"Not reproduced: the call returned {_text(_short(outcome.result))} here, where the "
            "worker "
            f"died ({label}). The crash may depend on the worker's conditions (other tasks' "
            "memory, threads, a library's state): try a lower --memory-limit, or read the "
            "stacks above."
        )
    if isinstance(exception, MemoryError):
        if section.cause == "memory":
            return (
                "Reproduced: the call ran out of memory under the worker's limit (MemoryError "
                "here, where the nanny killed the worker)."
            )
        return f"The call ran out of memory here (MemoryError); the worker died of {label}."
    if isinstance(exception, ProcessExit):
        if section.cause == "exit" and section.exit_code == exception.status:
            return f"Reproduced: the call called os._exit({exception.status}), as on the worker."
        return f"The call called os._exit({exception.status}); the worker died of {label}."
    kind = type(exception).__qualname__ if exception is not None else "?"
    return (
        f"A different ending: the call raised {kind}: {exception} here; the worker died of {label}."
    )


def _short(value: object, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def require_inputs(manifest: snapshot.Manifest, path: str) -> None:
    """Refuse to re-run a death whose inputs died with the worker; say which."""
    lost = lost_inputs(manifest)
    if lost:
        from .._session import NotReplayableError

        raise NotReplayableError(
            f"{path}: the call cannot be re-run: input(s) {', '.join(lost)} were held only by "
            "the worker that died; `info` shows how it died and the stacks at its death",
            path=path,
        )
