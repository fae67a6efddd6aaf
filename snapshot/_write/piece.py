"""One captured object as the store knows it, and its record in the manifest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .._format import STORED
from .spool import Spool


@dataclass(slots=True)
class Piece:
    pid: str
    label: str
    status: str
    type: str
    repr: str
    reason: str | None = None
    inband: bytes | None = None
    spool: Spool | None = None
    buffers: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    size: int = 0
    modules: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    kind: str = ""  # for the capture report: error, cap, setting, live, redacted, abandoned

    @property
    def harmless(self) -> bool:
        """Withheld by policy and not needed to re-run the call: no loss.

        A live resource (an open file, a lock, a thread: never captured, by
        design) held by a frame's local, the exception or the run_spec; the
        call's function, arguments and inputs are what a replay runs on.
        """
        return self.kind == "live" and not self.label.startswith(("call.", "inputs["))

    @property
    def inband_size(self) -> int:
        if self.inband is not None:
            return len(self.inband)
        return self.spool.size if self.spool is not None else 0

    def chunks(self) -> Iterator[bytes]:
        """The in-band pickle, whole or in chunks from its spool file."""
        if self.inband is not None:
            yield self.inband
        elif self.spool is not None:
            yield from self.spool.chunks()

    def record(self) -> dict[str, Any]:
        """The manifest entry for this piece (the capture report)."""
        out: dict[str, Any] = {
            "label": self.label,
            "status": self.status,
            "type": self.type,
            "repr": self.repr,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.status == STORED:
            out["size"] = self.size
            out["member"] = f"pieces/{self.pid}.pkl"
            out["buffers"] = list(self.buffers)
            out["refs"] = list(self.refs)
            out["modules"] = list(self.modules)
        if self.summary:
            out["summary"] = self.summary
        return out


def summary_of(obj: object) -> dict[str, Any]:
    """Shape, dtype and length where an object offers them cheaply."""
    out: dict[str, Any] = {}
    try:
        shape = getattr(obj, "shape", None)
        if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
            out["shape"] = list(shape)
        dtype = getattr(obj, "dtype", None)
        if dtype is not None and not callable(dtype):
            out["dtype"] = str(dtype)
        nbytes = getattr(obj, "nbytes", None)
        if isinstance(nbytes, int):
            out["nbytes"] = nbytes
    except Exception:
        return {}
    return out
