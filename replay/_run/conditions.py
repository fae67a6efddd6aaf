"""A worker's death, re-created around a re-run: its memory limit, ``os._exit``, faulthandler.

:func:`death_conditions` runs its body under the conditions the worker died in:

* the worker's memory limit as this process's data limit
  (``RLIMIT_DATA``, the soft limit only, restored afterwards), so that an
  allocation past it raises ``MemoryError`` at the line that made it, where
  the worker's nanny would have killed the process;
* ``os._exit`` raising :class:`ProcessExit` at its caller instead of ending
  the replay;
* faulthandler on stderr, so that a segfault that reproduces at least prints
  its stack before this process ends too.

:class:`replay.Replay` enters it once per re-run, around the call.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from .._describe.death import is_count, lost_inputs
from .._describe.summary import format_size
from .._errors import NotReplayableError

if TYPE_CHECKING:
    import snapshot

__all__ = [
    "ProcessExit",
    "death_conditions",
    "parse_memory_limit",
    "require_inputs",
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


def _raise_exit(status: int = 0) -> NoReturn:
    raise ProcessExit(int(status))


@contextlib.contextmanager
def death_conditions(
    manifest: snapshot.Manifest, memory_limit: int | str | None = "worker"
) -> Iterator[list[str]]:
    """Run the body under the dead worker's conditions; yields lines to print first.

    ``memory_limit`` is ``"worker"`` (the limit recorded in the snapshot), a
    number of bytes, or None for no limit.  An ordinary failure has none: the
    body runs as it is.
    """
    section = manifest.death
    if section is None:
        yield []
        return
    limit = section.memory_limit if memory_limit == "worker" else memory_limit
    notes: list[str] = []
    restore_limit = None
    if is_count(limit):
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


def require_inputs(manifest: snapshot.Manifest, path: str) -> None:
    """Refuse to re-run a death whose inputs died with the worker; say which."""
    lost = lost_inputs(manifest)
    if lost:
        raise NotReplayableError(
            f"{path}: the call cannot be re-run: input(s) {', '.join(lost)} were held only by "
            "the worker that died and could not be recomputed; `info` says why, how it died "
            "and the stacks at its death",
            path=path,
        )
