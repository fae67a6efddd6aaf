"""Pickling one piece at a time: a failure or a cap turns into a recorded placeholder.

Each captured object (the function, each argument, each input, each local) is
pickled on its own with cloudpickle, protocol 5.  Large contiguous buffers
(numpy, pandas, arrow) leave the pickle out-of-band as zero-copy views, are
deduplicated by the object that exports them, and are later written as raw tar
members.  Nothing here raises for a bad object: that is the whole point.
"""

from __future__ import annotations

import pickle
import reprlib
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from ._format import OMITTED, PLACEHOLDER, REDACTED_STATUS, STORED
from ._limits import WriteLimits
from ._opcodes import pickle_imports


@dataclass
class Buffer:
    """An out-of-band buffer, kept as a view of the live object until written."""

    bid: str
    view: memoryview
    owner: Any  # keeps the exporting object alive while the view is used

    @property
    def nbytes(self) -> int:
        return self.view.nbytes


@dataclass
class Piece:
    pid: str
    label: str
    status: str
    type: str
    repr: str
    reason: str | None = None
    inband: bytes | None = None
    buffers: list[str] = field(default_factory=list)
    size: int = 0
    modules: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

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
            out["modules"] = list(self.modules)
        if self.summary:
            out["summary"] = self.summary
        return out


class _CapExceeded(Exception):
    pass


class _CappedSink:
    """A file for the pickler that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        if len(self.data) + len(chunk) > self.limit:
            raise _CapExceeded
        self.data += chunk
        return len(chunk)


def type_name(obj: object) -> str:
    kind = type(obj)
    module = getattr(kind, "__module__", None) or "?"
    return f"{module}.{getattr(kind, '__qualname__', kind.__name__)}"


def safe_repr(obj: object, limit: int) -> str:
    """``repr`` that never raises and never runs away."""
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlong = limit
    try:
        text = shortener.repr(obj)
    except BaseException as exc:  # a broken __repr__ must not break the capture
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summary(obj: object) -> dict[str, Any]:
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


class PieceStore:
    """Pickles pieces one by one, enforcing the per-piece and total caps."""

    def __init__(self, limits: WriteLimits) -> None:
        self.limits = limits
        self.pieces: dict[str, Piece] = {}
        self.buffers: dict[str, Buffer] = {}
        self._by_owner: dict[tuple[int, int], str] = {}
        self._by_object: dict[int, tuple[str, Any]] = {}
        self.total = 0

    def _new_pid(self) -> str:
        return f"p{len(self.pieces)}"

    def add_placeholder(
        self, obj: object, label: str, status: str, reason: str, *, show_repr: bool = True
    ) -> str:
        """Record ``obj`` without storing it.  ``show_repr=False`` keeps even its
        repr (which may show the data) out: only its type and shape remain."""
        pid = self._new_pid()
        shown = show_repr and status != REDACTED_STATUS
        self.pieces[pid] = Piece(
            pid,
            label,
            status,
            type_name(obj),
            safe_repr(obj, self.limits.max_repr_chars) if shown else "",
            reason=reason,
            summary=_summary(obj) if status == OMITTED else {},
        )
        return pid

    def add(self, obj: object, label: str) -> str:
        """Pickle ``obj`` now and return its piece id; never raises."""
        seen = self._by_object.get(id(obj))
        if seen is not None and seen[1] is obj:
            return seen[0]
        pid = self._pickle(obj, label)
        self._by_object[id(obj)] = (pid, obj)
        return pid

    def _pickle(self, obj: object, label: str) -> str:
        budget = min(self.limits.max_piece_bytes, self.limits.max_total_bytes - self.total)
        sink = _CappedSink(max(budget, 0))
        new_buffers: list[Buffer] = []
        order: list[str] = []
        used = [0]

        def on_buffer(pb: pickle.PickleBuffer) -> bool:
            try:
                view = pb.raw()
            except BufferError:  # not contiguous: let pickle copy it in-band
                return True
            key = (id(view.obj), view.nbytes)
            bid = self._by_owner.get(key)
            if bid is None or self.buffers[bid].view.obj is not view.obj:
                used[0] += view.nbytes
                if len(sink.data) + used[0] > sink.limit:
                    raise _CapExceeded
                bid = f"b{len(self.buffers) + len(new_buffers)}"
                new_buffers.append(Buffer(bid, view, view.obj))
            order.append(bid)
            return False

        try:
            pickler = cloudpickle.Pickler(sink, protocol=5, buffer_callback=on_buffer)
            pickler.dump(obj)
            if len(sink.data) + used[0] > sink.limit:
                raise _CapExceeded
        except _CapExceeded:
            return self._omit_for_size(obj, label, budget)
        except BaseException as exc:  # __reduce__ may raise anything, even SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            return self.add_placeholder(obj, label, PLACEHOLDER, _describe(exc))

        for buf in new_buffers:
            self.buffers[buf.bid] = buf
            self._by_owner[(id(buf.view.obj), buf.nbytes)] = buf.bid
        inband = bytes(sink.data)
        size = len(inband) + used[0]
        self.total += size
        modules: list[str] = []
        if len(inband) <= self.limits.max_scan_bytes:
            try:
                modules = sorted(pickle_imports(inband))
            except Exception:
                modules = []
        pid = self._new_pid()
        self.pieces[pid] = Piece(
            pid,
            label,
            STORED,
            type_name(obj),
            safe_repr(obj, self.limits.max_repr_chars),
            inband=inband,
            buffers=order,
            size=size,
            modules=modules,
            summary=_summary(obj),
        )
        return pid

    def _omit_for_size(self, obj: object, label: str, budget: int) -> str:
        if budget < self.limits.max_piece_bytes:
            reason = (
                f"left out: the snapshot's total size cap ({self.limits.max_total_bytes} bytes, "
                "snapshot.max-total-size) was reached"
            )
        else:
            reason = (
                f"left out: larger than the per-object cap ({self.limits.max_piece_bytes} bytes, "
                "snapshot.max-object-size)"
            )
        return self.add_placeholder(obj, label, OMITTED, reason)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
