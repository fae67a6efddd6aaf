"""Pickling one piece at a time: a failure or a cap turns into a recorded placeholder.

Each captured object (the function, each argument, each input, each local) is
a piece, pickled on its own with :class:`~.pickler.CapturePickler`, protocol
5.  An object is stored once per capture: the store keeps an identity registry
(``id`` -> piece, holding the object alive), so a second holder gets the same
piece, and inside a pickle a reference to it (format 1.1, :mod:`snapshot._read.refs`).
Large objects met inside a piece become pieces of their own first, so every
later holder refers to them.  A piece that failed stays a placeholder and is
referred to as one, never pickled again: each ``__reduce__`` runs at most once
per piece.

Large contiguous buffers (numpy, pandas, arrow, large bytes) leave the pickle
out-of-band as zero-copy views, are deduplicated by the address and size of
the memory they export (pyarrow makes a new wrapper object on every pickle),
and are later written as raw tar members.  In-band pickles go to a
:class:`~.spool.Spool`.  Nothing here raises for a bad object.
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any

from .._byvalue import LEAVES
from .._format import OMITTED, PLACEHOLDER, REDACTED_STATUS, STORED
from .._limits import WriteLimits
from .._text import safe_repr, type_name
from .buffers import Buffer, address_of
from .columns import scrub_columns
from .live import live_args, live_kind
from .pickler import (
    HOIST_BYTES,
    CapturePickler,
    OutOfBand,
    ReferencingPickler,
    data_bytes,
)
from .piece import Piece, summary_of
from .plan import FLAT, REFERENCES, Plan, plan, prelude, preset_memo
from .redact import REDACTED, Redactor
from .spool import Abandoned, CapExceeded, Progress, Spool

#: A pickle in progress keeps up to this many bytes in memory before it spools.
PIECE_MEMORY = 1024 * 1024
#: Finished pickles kept in memory, all pieces together; the rest stay spooled.
MEMORY_BUDGET = 32 * 1024 * 1024


class PieceStore:
    """Pickles pieces one by one, enforcing the per-piece and total caps."""

    def __init__(
        self,
        limits: WriteLimits,
        *,
        redactor: Redactor | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.limits = limits
        self.redactor = redactor if redactor is not None else Redactor()
        self.spool_dir = spool_dir
        self.cancel = cancel
        self.cancel_reason: str | None = None
        self.progress = Progress()  # read by the waiting thread: a stall is no tick
        self.current_label: str | None = None
        self.pieces: dict[str, Piece] = {}
        self.buffers: dict[str, Buffer] = {}
        self.total = 0
        self._next_pid = 0
        self._next_bid = 0
        self._by_memory: dict[tuple[int, int], str] = {}
        self._registry: dict[int, tuple[str, Any]] = {}
        # Plain scalars by value: equal ones held by many frames (ints past the
        # interpreter's small-int cache are new objects each) are one piece.
        self._by_value: dict[object, str] = {}
        self._active: list[Spool] = []
        self._active_pids: set[str] = set()
        self._in_memory = 0

    # -- identity -----------------------------------------------------------
    def piece_of(self, obj: object) -> str | None:
        """The pid of the finished piece that holds ``obj`` itself, if any."""
        entry = self._registry.get(id(obj))
        if entry is None or entry[1] is not obj or entry[0] in self._active_pids:
            return None
        return entry[0]

    def alias(self, obj: object, pid: str) -> None:
        """Let ``obj`` (an original whose scrubbed copy is piece ``pid``) refer to it."""
        self._registry.setdefault(id(obj), (pid, obj))

    # -- adding -------------------------------------------------------------
    def add(self, obj: object, label: str) -> str:
        """Pickle ``obj`` now (unless already stored) and return its piece id; never raises."""
        pid = self.piece_of(obj)
        if pid is not None:
            return pid
        return self._piece(obj, label, nested=False)

    def hoist(self, obj: object, what: str) -> str | None:
        """Make ``obj``, met inside the piece being pickled, a piece of its own."""
        if id(obj) in self._registry:  # in progress: pickled where it is
            return None
        return self._piece(obj, f"{self.current_label} > {what}", nested=True)

    def add_placeholder(
        self,
        obj: object,
        label: str,
        status: str,
        reason: str,
        *,
        show_repr: bool = True,
        kind: str = "",
        text: str | None = None,
        pid: str | None = None,
    ) -> str:
        """Record ``obj`` without storing it.  ``show_repr=False`` keeps even its
        repr (which may show the data) out: only its type and shape remain.
        ``pid``: the id taken when its pickling began (which failed)."""
        if text is None:
            shown = show_repr and status != REDACTED_STATUS
            text = safe_repr(obj, self.limits.max_repr_chars) if shown else ""
        return self._record(
            pid or self._new_pid(),
            obj,
            label,
            status,
            text,
            reason=self.redactor.redact_text(reason),
            summary=summary_of(obj) if status == OMITTED and kind != "live" else {},
            kind=kind or status,
        )

    def live_placeholder(self, obj: object, what: str) -> tuple[str, str, str, str]:
        """The ``Placeholder`` arguments for a live resource nested in a piece."""
        kind, text, reason, status = live_args(obj, what, self.limits.max_repr_chars)
        return kind, self.redactor.redact_text(text), reason, status

    def scrub_table(self, obj: object) -> object:
        """``obj`` (a table) with its secret-named columns replaced, or itself."""
        return scrub_columns(obj, self.redactor.is_secret, REDACTED)

    def abandoned_reason(self) -> str:
        return f"capture abandoned: {self.cancel_reason or 'cancelled'}"

    # -- pickling -----------------------------------------------------------
    def _record(
        self, pid: str, obj: object, label: str, status: str, text: str, **fields: Any
    ) -> str:
        """The one construction of a :class:`Piece`: its type, and its repr redacted."""
        self.progress.tick()
        self.pieces[pid] = Piece(
            pid, label, status, type_name(obj), self.redactor.redact_text(text), **fields
        )
        return pid

    def _stored(self, pid: str, obj: object, label: str, **fields: Any) -> str:
        """Record ``obj`` as stored, shown by its bounded repr."""
        text = safe_repr(obj, self.limits.max_repr_chars)
        return self._record(pid, obj, label, STORED, text, **fields)

    def _new_pid(self) -> str:
        pid = f"p{self._next_pid}"
        self._next_pid += 1
        return pid

    def _piece(self, obj: object, label: str, *, nested: bool) -> str:
        if self.cancel is not None and self.cancel.is_set():
            if nested:
                raise Abandoned
            return self.add_placeholder(
                obj, label, OMITTED, self.abandoned_reason(), text="", kind="abandoned"
            )
        what = live_kind(type(obj))
        if what is not None:
            _, text, reason, status = self.live_placeholder(obj, what)
            pid = self.add_placeholder(obj, label, status, reason, text=text, kind="live")
        elif type(obj) in LEAVES and not (  # the plain C pickler, never cloudpickle
            type(obj) in (str, bytes) and len(obj) >= HOIST_BYTES  # type: ignore[arg-type]
        ):
            pid = self._simple(obj, label)
        else:
            pid = self._new_pid()
            self._registry[id(obj)] = (pid, obj)
            self._active_pids.add(pid)
            outer = self.current_label
            self.current_label = label
            try:
                self._pickle(pid, obj, label, nested)
            finally:
                self._active_pids.discard(pid)
                self.current_label = outer
            return pid
        self._registry[id(obj)] = (pid, obj)
        return pid

    def _budget(self) -> int:
        pending = sum(s.size + s.extra for s in self._active) if self._active else 0
        room = self.limits.max_total_bytes - self.total - pending
        return max(0, min(self.limits.max_piece_bytes, room))

    def _simple(self, obj: object, label: str) -> str:
        """Scalars and short strings: the C pickler alone, no spool, no registry.

        An equal one stored already is that piece: ints, strings and bytes
        equal by ``==`` (of the same exact type) pickle alike; other scalars
        (``0.0 == -0.0``, NaN) are compared by their pickles.
        """
        kind = type(obj)
        key: object = (kind, obj) if kind is int or kind is str or kind is bytes else None
        if key is not None:
            pid = self._by_value.get(key)
            if pid is not None:
                return pid
        try:
            data = pickle.dumps(obj, protocol=5)
        except BaseException as exc:  # an int too large to pickle, say
            if isinstance(exc, KeyboardInterrupt):
                raise
            return self.add_placeholder(obj, label, PLACEHOLDER, _failure(exc), kind="error")
        if key is None:
            key = data
            pid = self._by_value.get(key)
            if pid is not None:
                return pid
        size = len(data)
        budget = self._budget()
        if size > budget:
            return self.add_placeholder(obj, label, OMITTED, self._size_reason(budget), kind="cap")
        self.total += size
        self._in_memory += size
        pid = self._by_value[key] = self._new_pid()
        return self._stored(pid, obj, label, inband=data, size=size)

    def _pickle(self, pid: str, obj: object, label: str, nested: bool) -> None:
        kind = type(obj)
        payload: object = obj
        if (kind is bytes or kind is bytearray) and len(obj) >= HOIST_BYTES:  # type: ignore[arg-type]
            payload = OutOfBand(obj)  # type: ignore[arg-type]
        known = data_bytes(obj)
        if known is not None and known > self._budget():
            # Its pickle holds at least this much: left out before any copy is made.
            reason = self._size_reason(self._budget())
            self.add_placeholder(obj, label, OMITTED, reason, kind="cap", pid=pid)
            return
        # A flat pickle (no memo) that meets a cycle after all is made again with one.
        how = plan(obj)
        try:
            try:
                done = self._attempt(payload, how)
            except ValueError as exc:
                if not (how.how == FLAT and "fast mode" in str(exc)):
                    raise
                done = self._attempt(payload, Plan(REFERENCES))
        except CapExceeded as exc:
            reason = self._size_reason(exc.args[0])
            self.add_placeholder(obj, label, OMITTED, reason, kind="cap", pid=pid)
            return
        except Abandoned:
            reason = self.abandoned_reason()
            self.add_placeholder(
                obj, label, OMITTED, reason, kind="abandoned", show_repr=False, pid=pid
            )
            if nested:
                raise
            return
        except BaseException as exc:  # __reduce__ may raise anything, even SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.add_placeholder(obj, label, PLACEHOLDER, _failure(exc), kind="error", pid=pid)
            return
        spool, inband, pickler, new_buffers, order = done
        for key, buf in new_buffers.items():
            self._by_memory[key] = buf.bid
            self.buffers[buf.bid] = buf
        size = spool.size + spool.extra
        self.total += size
        if inband is not None:
            spool.close()
            if self._in_memory + len(inband) > MEMORY_BUDGET and len(inband) > 4096:
                # Too much already held: write it back to a spool of its own.
                spool = Spool(len(inband), memory=0, directory=self.spool_dir, cancel=None)
                spool.write(inband)
                spool.finish()
                inband = None
            else:
                self._in_memory += len(inband)
        self._stored(
            pid,
            obj,
            label,
            inband=inband,
            spool=spool if inband is None else None,
            buffers=order,
            refs=list(dict.fromkeys(pickler.refs)),
            size=size,
            modules=sorted(pickler.modules),
            summary=summary_of(obj),
        )

    def _attempt(
        self, payload: object, how: Plan
    ) -> tuple[Spool, bytes | None, CapturePickler, dict[tuple[int, int], Buffer], list[str]]:
        """One pickling of ``payload``; the spool is closed if it raises."""
        spool = Spool(
            self._budget(),
            memory=PIECE_MEMORY,
            directory=self.spool_dir,
            cancel=self.cancel,
            progress=self.progress,
        )
        new_buffers: dict[tuple[int, int], Buffer] = {}
        order: list[str] = []
        self._active.append(spool)
        try:
            pickler = (ReferencingPickler if how.how == REFERENCES else CapturePickler)(
                spool, self, self._buffer_callback(spool, new_buffers, order)
            )
            if how.shared:  # strings the entries share: written once (see .plan)
                spool.write(prelude(how.shared))
                pickler.memo = preset_memo(how.shared)
            pickler.fast = how.how == FLAT
            pickler.dump(payload)
            return spool, spool.finish(), pickler, new_buffers, order
        except CapExceeded:
            spool.close()
            raise CapExceeded(spool.limit) from None
        except BaseException:
            spool.close()
            raise
        finally:
            self._active.pop()

    def _buffer_callback(
        self, spool: Spool, new_buffers: dict[tuple[int, int], Buffer], order: list[str]
    ) -> Any:
        """The pickler's ``buffer_callback``: each buffer out-of-band, once per memory."""

        def on_buffer(pb: pickle.PickleBuffer) -> bool:
            try:
                view = pb.raw()
            except BufferError:  # not contiguous: let pickle copy it in-band
                return True
            address = address_of(view)
            if address is None:  # cannot tell where it lives: store it on its own
                address = -self._next_bid - 1
            key = (address, view.nbytes)
            bid = self._by_memory.get(key)
            if bid is None:
                buf = new_buffers.get(key)
                if buf is None:
                    spool.count(view.nbytes)
                    buf = new_buffers[key] = Buffer(f"b{self._next_bid}", view, view.obj)
                    self._next_bid += 1
                bid = buf.bid
            order.append(bid)
            return False

        return on_buffer

    def _size_reason(self, budget: int) -> str:
        if budget < self.limits.max_piece_bytes:
            return (
                f"left out: the snapshot's total size cap ({self.limits.max_total_bytes} bytes, "
                "snapshot.max-total-size) was reached"
            )
        return (
            f"left out: larger than the per-object cap ({self.limits.max_piece_bytes} bytes, "
            "snapshot.max-object-size)"
        )

    def close(self) -> None:
        """Drop the spool files (after writing)."""
        for piece in self.pieces.values():
            if piece.spool is not None:
                piece.spool.close()


def _failure(exc: BaseException) -> str:
    """A pickling error as a placeholder's reason: ``"Type: message"``, at most 300 characters."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
