"""The scheduler's index of the cluster's snapshots, from the workers' ``snapshot`` events.

distributed keeps only the last ``distributed.admin.low-level-log-length``
events of a topic (1,000), so the index keeps its own rows, at most
``MAX_ROWS``, oldest dropped first.  An event is hostile input (any client
may publish on the topic): every field is optional, checked for its type
and cut to a bounded length; only a valid file name (``files.valid_name``)
ever becomes a link.  ``worker`` is trustworthy: the scheduler writes the
publishing worker's address into it (``Scheduler.log_worker_event``).
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .files import valid_name

#: Snapshots the index remembers; older ones leave it first.
MAX_ROWS = 10_000
#: Characters kept of each text field.
MAX_TEXT = 500


@dataclass(frozen=True)
class Row:
    """One snapshot as the list shows it; every field may be missing."""

    time: float
    name: str | None  # the file's name, when valid: the row's id in URLs
    key: str
    error: str
    message: str
    worker: str
    host: str
    path: str
    url: str | None
    size: int | None
    cause: str | None
    fingerprint: str | None
    complete: bool | None


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # a tuple key in its JSON form
        text = "(" + ", ".join(_text(v, limit) for v in value[:20]) + ")"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _death(death: Mapping[str, Any]) -> str:
    """How a worker died, as the death snapshot's event says: ``memory, signal 9 (tcp://...)``."""
    parts = [_text(death.get("cause"), 100) or "unknown"]
    if type(death.get("signal")) is int:
        parts.append(f"signal {death['signal']}")
    if type(death.get("exit_code")) is int:
        parts.append(f"exit status {death['exit_code']}")
    text = ", ".join(parts)
    if death.get("worker"):
        text += f" ({_text(death.get('worker'), 200)})"
    return text


def row_of(stamp: float, msg: Mapping[str, Any]) -> Row:
    """The row of one event (never raises for a mapping)."""
    path = _text(msg.get("path"), 4096)
    name = os.path.basename(path) if path else None
    death = msg.get("death")
    cause = _death(death) if isinstance(death, Mapping) else None
    size = msg.get("bytes")
    url = msg.get("url")
    fingerprint = msg.get("fingerprint")
    complete = msg.get("complete")
    return Row(
        time=float(stamp),
        name=name if valid_name(name) else None,
        key=_text(msg.get("key")),
        error=_text(msg.get("exception"), 200),
        message=_text(msg.get("message")),
        worker=_text(msg.get("worker"), 200),
        host=_text(msg.get("host"), 200),
        path=path,
        url=url if isinstance(url, str) and len(url) <= 4096 else None,
        size=size if type(size) is int and size >= 0 else None,
        cause=cause,
        fingerprint=fingerprint
        if isinstance(fingerprint, str) and len(fingerprint) <= 200
        else None,
        complete=complete if isinstance(complete, bool) else None,
    )


class SnapshotIndex:
    """The last ``limit`` snapshots, by arrival; a file name finds its row."""

    def __init__(self, limit: int = MAX_ROWS) -> None:
        self.limit = limit
        self._rows: OrderedDict[Any, Row] = OrderedDict()
        self._serial = itertools.count()

    def add(self, stamp: float, msg: Any) -> Row | None:
        if not isinstance(msg, Mapping):
            return None
        row = row_of(stamp, msg)
        ident: Any = row.name if row.name is not None else ("unnamed", next(self._serial))
        self._rows.pop(ident, None)
        self._rows[ident] = row
        while len(self._rows) > self.limit:
            self._rows.popitem(last=False)
        return row

    def get(self, name: str) -> Row | None:
        return self._rows.get(name)

    def __len__(self) -> int:
        return len(self._rows)

    def newest_first(self) -> Iterator[Row]:
        return reversed(self._rows.values())
