"""Assembling a snapshot before streaming it to disk.

Every piece is pickled when it is added (frames' locals when the builder is
done with the call, the inputs and the run_spec: see
:meth:`SnapshotBuilder.capture_exception`), so the manifest, which is the
first tar member, can report what was stored.  In-band pickles wait in
spools (memory when small, an unlinked file when not); out-of-band buffers
stay as views of the live objects until :meth:`SnapshotBuilder.write`
streams them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from .._format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_MEMBER,
    OMITTED,
    REDACTED_STATUS,
    STORED,
    WRITER_VERSION,
    key_to_json,
)
from .._limits import WriteLimits
from .exception import describe_exception
from .final_manifest import final_manifest, manifest_json
from .frames import frame_records
from .piece import Piece
from .redact import Redactor
from .spool import Progress
from .store import PieceStore
from .stream import TarStream, write_atomically

LocalsPolicy = Callable[[FrameType], Mapping[str, Any]]


def _default_locals(frame: FrameType) -> Mapping[str, Any]:
    """Every local of a function frame; none of a module-level frame (its globals)."""
    if frame.f_locals is frame.f_globals:
        return {}
    return frame.f_locals


class SnapshotBuilder:
    """Collects what a failure left behind, then writes it as one snapshot file.

    ``add`` and the ``capture_*``/``set_*`` methods never raise on a bad object:
    it becomes a placeholder in the capture report.  Callers fill the free
    sections ``manifest["task"]`` and ``manifest["origin"]`` themselves.

    Each object is stored once: a second holder (another argument, a frame's
    local, an object inside another piece) refers to the same piece, and
    loads as the same object.

    ``spool_dir`` is where pickles too large to keep in memory wait until
    :meth:`write` (anonymous files, unlinked at creation; the system's
    temporary directory by default: give the snapshot's directory).
    ``cancel``, set from another thread, abandons the capture: the pickle in
    progress stops at its next write or reference and becomes an ``omitted``
    piece with reason ``"capture abandoned: <cancel_reason>"``, every later
    piece is recorded the same way at once (without its repr), and
    :meth:`write` still writes what was stored.  :attr:`current_label` says,
    to any thread, which piece is being pickled.
    """

    def __init__(
        self,
        *,
        limits: WriteLimits | None = None,
        redactor: Redactor | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.limits = limits or WriteLimits()
        self.redactor = redactor if redactor is not None else Redactor()
        self._store = PieceStore(
            self.limits, redactor=self.redactor, spool_dir=spool_dir, cancel=cancel
        )
        self._pending_frames: list[tuple[dict[str, Any], int, dict[str, Any]]] = []
        self._pending_exception: BaseException | None = None
        self._sources: dict[str, str] = {}
        self._started = time.perf_counter()
        self.manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "writer": {"name": "dask-replay", "version": WRITER_VERSION},
            "created": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "origin": {
                "pid": os.getpid(),
                "thread": threading.current_thread().name,
                "thread_id": threading.get_ident(),
            },
        }

    # -- cancelling and progress ---------------------------------------------
    @property
    def cancel_reason(self) -> str | None:
        """Why the capture is abandoned (set it before setting ``cancel``)."""
        return self._store.cancel_reason

    @cancel_reason.setter
    def cancel_reason(self, why: str | None) -> None:
        self._store.cancel_reason = why

    @property
    def progress(self) -> Progress:
        """The count of work done so far (bytes pickled, pieces finished), for a stall watch."""
        return self._store.progress

    @property
    def current_label(self) -> str | None:
        """The label of the piece being pickled now (``None`` between pieces)."""
        return self._store.current_label

    # -- the capture report ------------------------------------------------
    @property
    def report(self) -> list[dict[str, Any]]:
        """One entry per piece: ``pid``, ``label``, ``status``, ``kind``, ``reason``.

        ``kind`` says why a piece is not stored: ``"error"`` (pickling failed),
        ``"cap"`` (a size cap), ``"abandoned"`` (cancelled), ``"live"`` (a live
        resource), ``"omitted"`` (a setting), ``"redacted"``; ``"stored"`` else.
        """
        self._flush_frames()
        return [
            {
                "pid": p.pid,
                "label": p.label,
                "status": p.status,
                "kind": p.kind or p.status,
                "reason": p.reason or "",
            }
            for p in self._store.pieces.values()
        ]

    def left_out(self) -> list[str]:
        """``"label (reason)"`` for each object an error, a cap, cancelling or being
        a live resource kept out of the snapshot.

        Redactions and settings are the user's choices: not listed; nor are
        harmless placeholders (:attr:`Piece.harmless`: a live resource outside
        the call), which lose nothing.
        """
        self._flush_frames()
        return [
            f"{p.label} ({p.reason})"
            for p in self._store.pieces.values()
            if p.kind in ("error", "cap", "abandoned", "live") and not p.harmless
        ]

    # -- pieces -----------------------------------------------------------
    def add(self, obj: object, *, label: str, name: str | None = None) -> str:
        """Pickle one object now (or find it stored); return its piece id.  Never raises."""
        if name is not None and self.redactor.is_secret(name):
            return self._store.add_placeholder(
                obj,
                label,
                REDACTED_STATUS,
                f"name {name!r} looks secret (snapshot.redact)",
                kind="redacted",
            )
        pid = self._store.piece_of(obj)
        if pid is not None:
            return pid
        return self._add_unstored(obj, label)

    def _add_unstored(self, obj: object, label: str) -> str:
        """``add`` of an object under a name that is not secret and not a piece yet."""
        store = self._store
        scrubbed = self.redactor.scrub(obj)
        pid = store.add(scrubbed, label)
        if scrubbed is not obj:
            store.alias(obj, pid)
        return pid

    def omit(self, obj: object, *, label: str, reason: str) -> str:
        """Record an object deliberately left out (a setting turned its capture off).

        Only its type and shape are recorded, never its repr: a repr shows data.
        """
        return self._store.add_placeholder(
            obj, label, OMITTED, reason, show_repr=False, kind="omitted"
        )

    def set_call(
        self,
        func: object,
        args: Iterable[object] = (),
        kwargs: Mapping[str, object] | None = None,
        *,
        origin: str = "user_call",
        capture_arguments: bool = True,
        reason: str = "argument capture is off",
    ) -> None:
        """The call a replay re-executes: ``func(*args, **kwargs)``.

        With ``capture_arguments=False`` the function is stored and each
        argument is recorded by type and shape only (see :meth:`omit`).
        """

        def piece(value: object, label: str, name: str | None = None) -> str:
            if capture_arguments:
                return self.add(value, label=label, name=name)
            return self.omit(value, label=label, reason=reason)

        self.manifest["call"] = {
            "func": self.add(func, label="call.func"),
            "args": [piece(a, f"call.args[{i}]") for i, a in enumerate(args)],
            "kwargs": {
                str(k): piece(v, f"call.kwargs[{k!r}]", str(k)) for k, v in (kwargs or {}).items()
            },
            "origin": origin,
        }

    def add_inputs(
        self,
        inputs: Mapping[object, object],
        *,
        capture: bool = True,
        reason: str = "input capture is off",
    ) -> None:
        """The task's resolved dependencies, ``{key: value}``; see :meth:`omit` for ``capture``."""
        entries = []
        for key, value in inputs.items():
            label = f"inputs[{key!r}]"
            if capture:
                pid = self.add(value, label=label)
            else:
                pid = self.omit(value, label=label, reason=reason)
            entries.append({"key": key_to_json(key), "piece": pid})
        self.manifest["inputs"] = entries

    def add_run_spec(self, run_spec: object) -> None:
        self.manifest["run_spec"] = self.add(run_spec, label="run_spec")

    def add_result(self, value: object) -> str:
        """The value the call returned (a snapshot asked for, spec 4.13): ``on_demand.result``."""
        pid = self.add(value, label="result")
        self.manifest.setdefault("on_demand", {})["result"] = pid
        return pid

    def capture_exception(
        self,
        exc: BaseException,
        *,
        skip_frames: int = 0,
        get_locals: LocalsPolicy = _default_locals,
    ) -> None:
        """Record the error, the exception object and every frame with its locals.

        The exception and the locals are pickled last (when the report is
        asked for, or at :meth:`write`), whatever the order of calls: the call,
        the inputs and the run_spec are then pieces already, and the frames
        that hold them refer to those pieces.
        """
        self.manifest["error"] = describe_exception(exc, skip_frames)
        self._pending_exception = exc

        def locals_of(index: int, frame: FrameType) -> dict[str, Any]:
            try:
                local_values = dict(get_locals(frame))
            except Exception:
                local_values = {}
            locals_ids: dict[str, Any] = {}  # filled with piece ids by _flush_frames
            self._pending_frames.append((locals_ids, index, local_values))
            return locals_ids

        self.manifest["frames"] = frame_records(
            exc.__traceback__,
            sources=self._sources,
            max_source_bytes=self.limits.max_source_bytes,
            locals_of=locals_of,
            skip=skip_frames,
        )

    def add_source(self, filename: str, text: str) -> None:
        self._sources[filename] = text

    def finish_pieces(self) -> None:
        """Pickle what is still pending (the exception, the frames' locals) now.

        :meth:`write` does it anyway; a caller that watches the pickling (where
        objects' own code runs) apart from the writing calls this first.
        """
        self._flush_frames()

    def _flush_frames(self) -> None:
        """Pickle the exception and the frames' locals recorded by capture_exception."""
        if self._pending_exception is not None:
            exc, self._pending_exception = self._pending_exception, None
            self.manifest["exception"] = self.add(exc, label="exception")
        pending, self._pending_frames = self._pending_frames, []
        # What add() does, with its common case first: a local that is a piece
        # already (a recursion's frames share most of theirs) costs two lookups.
        is_secret = self.redactor.is_secret
        piece_of = self._store.piece_of
        for locals_ids, index, values in pending:
            for name, value in values.items():
                if is_secret(name):
                    pid = self.add(value, label=f"frames[{index}].{name}", name=name)
                else:
                    pid = piece_of(value) or self._add_unstored(value, f"frames[{index}].{name}")
                locals_ids[name] = pid

    # -- writing ------------------------------------------------------------
    def write(
        self,
        target: str | os.PathLike[str],
        *,
        key: bytes | None = None,
        pieces: bool = True,
        reason: str | None = None,
        level: int = 1,
        threads: int | None = None,
    ) -> Path:
        """Write the snapshot atomically to ``target``; raise ``SnapshotWriteError``.

        ``pieces=False`` writes the manifest (and sources) alone: the fallback
        when the full snapshot could not be written, so that what failed and
        where is never lost.
        """
        self._flush_frames()
        manifest = final_manifest(
            self.manifest,
            self._store,
            self._sources,
            signed=key is not None,
            pieces=pieces,
            reason=reason,
            redactor=self.redactor,
            seconds=time.perf_counter() - self._started,
        )
        manifest_bytes = manifest_json(manifest)
        store = self._store
        buffer_bytes = sum(b.nbytes for b in store.buffers.values()) if pieces else 0
        if threads is None:
            # zstd's worker thread overlaps compression of large buffers with our
            # disk writes; small members are compressed inline.
            threads = 1 if buffer_bytes >= 16 * 1024 * 1024 else 0

        def produce(tar: TarStream) -> None:
            tar.add(MANIFEST_MEMBER, manifest_bytes)
            # The manifest gets the first frame to itself: read_manifest then
            # verifies its checksum without decompressing anything else.
            tar.end_frame()
            if pieces:
                for piece in store.pieces.values():
                    if piece.status == STORED:
                        _add_piece(tar, piece)
            for filename, entry in manifest["sources"].items():
                tar.add(entry["member"], self._sources[filename].encode("utf-8", "surrogateescape"))
            # The bulk comes last: inspecting a snapshot (pickle opcodes,
            # sources) reads everything before it and stops.
            if pieces:
                for buf in store.buffers.values():
                    tar.add(f"buffers/{buf.bid}", buf.view)

        try:
            return write_atomically(target, produce, key=key, level=level, threads=threads)
        finally:
            if pieces:
                store.close()


def _add_piece(tar: TarStream, piece: Piece) -> None:
    name = f"pieces/{piece.pid}.pkl"
    if piece.inband is not None:
        tar.add(name, piece.inband)
    else:
        tar.add(name, piece.chunks(), piece.inband_size)
