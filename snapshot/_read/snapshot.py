"""An opened snapshot: the manifest's model and the raw members; pieces unpickled on request.

Every accessor reads :attr:`Snapshot.model` (the typed manifest), never the
raw dict: a field of the wrong type is absent there, so a crafted manifest
ends in a :class:`SnapshotFormatError` naming what is missing, never in a
``TypeError`` of ours.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._errors import SnapshotError, SnapshotFormatError, SnapshotModuleError, SnapshotUnpickleError
from .._format import STORED, Placeholder, key_from_json
from .._limits import ReadLimits
from .._model.manifest import Manifest, PieceRecord
from .._model.parsing import parse_manifest
from .._record import Record

#: Out-of-band buffers: the large members, written last.
BUFFER_PREFIX = "buffers/"


class Head(Record):
    """How far a head-only open read: members cut short (name -> declared size), why
    reading stopped (None: at the end of the archive), and the bytes decompressed."""

    partial: dict[str, int]
    stop: str | None = None
    decompressed: int = 0


class ImportScan(Mapping[str, list[str]]):
    """The modules each stored piece's pickle would import: ``scan[pid]`` (sorted names).

    ``incomplete[pid]`` says why a piece's list may miss modules (the scan's budget, a
    member read only in part, a module the pickle computes); ``invalid[pid]`` why its
    unpickling would fail (the scan stops there, as unpickling would).
    """

    def __init__(
        self,
        modules: dict[str, list[str]],
        incomplete: dict[str, str],
        invalid: dict[str, str],
    ) -> None:
        self.modules = modules
        self.incomplete = incomplete
        self.invalid = invalid

    def __getitem__(self, pid: str) -> list[str]:
        return self.modules[pid]

    def __iter__(self) -> Iterator[str]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __repr__(self) -> str:
        return f"ImportScan({self.modules!r}, incomplete={self.incomplete!r})"


class Snapshot:
    """An opened snapshot: manifest and raw members in memory; pieces unpickled on request."""

    def __init__(
        self,
        path: str,
        manifest: dict[str, Any],
        members: dict[str, Any],
        *,
        signed: bool = False,
        verified: bool = False,
        head: Head | None = None,
        model: Manifest | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        self.path = path
        #: The manifest as read (a plain dict): for ``info --json``; read :attr:`model`.
        self.manifest = manifest
        self.signed = signed
        self.verified = verified
        #: For a head-only open (inspection): what was read in part, and where it stopped.
        self.head = head
        self.limits = limits or ReadLimits()
        self._model = model
        self._members = members
        self._cache: dict[str, Any] = {}
        self._loading: set[str] = set()

    @property
    def head_only(self) -> bool:
        return self.head is not None

    @property
    def model(self) -> Manifest:
        """The typed manifest, parsed once."""
        if self._model is None:
            self._model = parse_manifest(self.manifest, path=self.path)
        return self._model

    def __repr__(self) -> str:
        error = self.model.error
        kind = error.type if error is not None else None
        message = (error.message or "") if error is not None else ""
        return f"<Snapshot {self.path!r} {kind}: {message[:60]!r}>"

    @property
    def size(self) -> int:
        return sum(len(m) for m in self._members.values())

    @property
    def members(self) -> Mapping[str, Any]:
        """Every member read, by name, as raw bytes (to copy the file; never unpickled)."""
        from types import MappingProxyType

        return MappingProxyType(self._members)

    def _record(self, pid: str) -> PieceRecord:
        record = self.model.piece(pid)
        if record is None:
            raise SnapshotFormatError(
                f"{self.path}: the manifest refers to piece {pid!r}, which it does not "
                "describe; the file is corrupt",
                path=self.path,
            )
        return record

    def _member(self, name: str | None, what: str) -> Any:
        if name is None:
            raise SnapshotFormatError(
                f"{self.path}: the manifest names no member for {what}; the file is corrupt",
                path=self.path,
            )
        data = self._members.get(name)
        if self.head is not None and (data is None or name in self.head.partial):
            raise SnapshotFormatError(
                f"{self.path}: opened head only (without its buffers, at most "
                f"ReadLimits.max_inspect_bytes) for inspection; open it whole to load this piece",
                path=self.path,
            )
        if data is None:
            raise SnapshotFormatError(
                f"{self.path}: member {name!r} is missing; the file is corrupt", path=self.path
            )
        return data

    def piece_bytes(self, pid: str) -> bytes:
        """The in-band pickle of a stored piece (for opcode inspection)."""
        return bytes(self._member(self._record(pid).member, f"piece {pid!r}"))

    def load(self, pid: str) -> Any:
        """Unpickle one piece (runs code from the file: trust it first)."""
        if pid in self._cache:
            return self._cache[pid]
        record = self._record(pid)
        if record.status != STORED:
            value: Any = Placeholder(
                record.type or "?", record.repr or "", record.reason or "", record.status or ""
            )
        else:
            data = self._member(record.member, f"piece {pid!r}")
            buffers = []
            described = self.model.buffers or {}
            for bid in record.buffers:
                entry = described.get(bid)
                if entry is None:
                    raise SnapshotFormatError(
                        f"{self.path}: piece {pid!r} needs buffer {bid!r}, which the manifest "
                        "does not describe; the file is corrupt",
                        path=self.path,
                    )
                buffers.append(self._member(entry.member, f"buffer {bid!r}"))
            if pid in self._loading:  # format 1.1 references (snapshot/_read/refs.py)
                raise SnapshotFormatError(
                    f"{self.path}: piece {pid!r} refers to itself through its references; "
                    "the file is corrupt or crafted",
                    path=self.path,
                )
            self._loading.add(pid)
            try:
                value = self._unpickle(data, buffers, record)
            finally:
                self._loading.discard(pid)
        self._cache[pid] = value
        return value

    def _unpickle(self, data: Any, buffers: list[Any], record: PieceRecord) -> Any:
        label = record.label or "?"
        try:
            from .refs import loads  # pickle: only once something is loaded

            return loads(data, buffers, self.load)
        except ModuleNotFoundError as exc:
            module = exc.name or "?"
            top = module.split(".")[0]
            version = (self.model.modules or {}).get(top)
            hint = f"pip install {top}=={version}" if version else f"make {top!r} importable"
            raise SnapshotModuleError(
                f"{self.path}: {label} needs the module {module!r}"
                f"{f' (version {version} on the worker)' if version else ''}, which is not "
                f"importable here; {hint}, or add its directory to PYTHONPATH",
                path=self.path,
                module=module,
            ) from exc
        except SnapshotError:
            raise  # from a referenced piece: missing, looping, or failing on its own
        except BaseException as exc:
            # Unpickling runs the file's code: whatever it raises is the file's.
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise SnapshotUnpickleError(
                f"{self.path}: cannot unpickle {label} ({record.type}): "
                f"{type(exc).__name__}: {exc}{self._version_hint(record)}",
                path=self.path,
            ) from exc

    def _version_hint(self, record: PieceRecord) -> str:
        """Modules of this piece whose version here differs from the worker's, in words.

        A class that moved or changed between versions fails with an
        AttributeError or TypeError that says nothing of versions.
        """
        recorded = self.model.modules or {}
        differences = []
        for top in sorted({n.split(".")[0] for n in record.modules}):
            wanted = recorded.get(top)
            if wanted is None:
                continue
            from .._installed import module_version  # package metadata: only on this error path

            here = module_version(top)
            if here != wanted:
                differences.append(f"{top} {wanted} on the worker, {here or 'not installed'} here")
        if not differences:
            return ""
        return f"; versions differ: {'; '.join(differences)}"

    # -- the parts a replay needs ------------------------------------------
    def call(self) -> tuple[Any, list[Any], dict[str, Any]]:
        """``(func, args, kwargs)`` of the failing call."""
        call = self.model.call
        if call is None or call.func is None:
            raise SnapshotFormatError(f"{self.path}: the snapshot holds no call", path=self.path)
        if call.args is None or call.kwargs is None:
            raise SnapshotFormatError(
                f"{self.path}: the manifest's call has no valid "
                f"{'args' if call.args is None else 'kwargs'}; the call cannot be replayed",
                path=self.path,
            )
        func = self.load(call.func)
        args = [self.load(pid) for pid in call.args]
        kwargs = {k: self.load(pid) for k, pid in call.kwargs.items()}
        return func, args, kwargs

    def inputs(self) -> dict[Any, Any]:
        """The task's resolved dependencies, by Dask key (JSON arrays back to tuples)."""
        return {
            key_from_json(entry.key): self.load(entry.piece)
            for entry in self.model.inputs
            if entry.piece is not None
        }

    def result(self) -> Any:
        """The value the task returned on the cluster (an on-demand capture, spec 4.13)."""
        section = self.model.on_demand
        if section is None or section.result is None:
            raise SnapshotFormatError(
                f"{self.path}: the snapshot holds no result (it was not asked for when the "
                "task had finished)",
                path=self.path,
            )
        return self.load(section.result)

    def exception(self) -> BaseException | Placeholder:
        pid = self.model.exception
        if pid is None:
            raise SnapshotFormatError(
                f"{self.path}: the snapshot holds no exception", path=self.path
            )
        value: BaseException | Placeholder = self.load(pid)
        return value

    def frame_locals(self, index: int) -> dict[str, Any]:
        """The locals of one captured frame; one that cannot load becomes a Placeholder."""
        out: dict[str, Any] = {}
        for name, pid in (self.model.frames[index].locals or {}).items():
            try:
                out[name] = self.load(pid)
            except SnapshotUnpickleError as exc:
                record = self.model.piece(pid) or PieceRecord()
                out[name] = Placeholder(
                    record.type or "?", record.repr or "", str(exc), "unloadable"
                )
        return out

    def source(self, filename: str) -> str | None:
        entry = (self.model.sources or {}).get(filename)
        if entry is None or entry.member is None:
            return None
        data = self._members.get(entry.member)
        if data is None or (self.head is not None and entry.member in self.head.partial):
            return None
        return bytes(data).decode("utf-8", "surrogateescape")

    def imports(self, *, max_opcodes: int | None = None) -> ImportScan:
        """The modules each stored piece's pickle would import, read from its opcodes.

        Never unpickles, and never trusts the writer's ``modules`` record.  The
        work is bounded by ``max_opcodes`` (default ``ReadLimits.max_scan_opcodes``)
        over all pieces, smallest first; what the budget or a head-only open left
        unscanned is in ``incomplete``.
        """
        from .opcodes import scan_pickle

        budget = self.limits.max_scan_opcodes if max_opcodes is None else max_opcodes
        spent = (
            f"ReadLimits.max_scan_opcodes={budget}"
            if max_opcodes is None
            else f"max_opcodes={max_opcodes}"
        )
        stored = [
            (pid, record.member)
            for pid, record in (self.model.pieces or {}).items()
            if record.status == STORED
        ]
        found: dict[str, list[str]] = {}
        incomplete: dict[str, str] = {}
        invalid: dict[str, str] = {}
        sized = [(len(self._members.get(m) or b"") if m else 0, pid, m) for pid, m in stored]
        for _, pid, member in sorted(sized):
            data = self._members.get(member) if member is not None else None
            if data is None:
                found[pid] = []
                incomplete[pid] = self._unread(member)
                continue
            declared = self.head.partial.get(member or "") if self.head is not None else None
            scan = scan_pickle(data, max_ops=max(budget, 0))
            budget -= scan.ops
            found[pid] = sorted(scan.modules)
            if scan.unknown:
                incomplete[pid] = f"{scan.unknown[0]}; it may import any module"
            elif not scan.complete or (declared is not None and not scan.stopped):
                why = []
                if not scan.complete:
                    why.append(f"the scan's budget, {spent}")
                if declared is not None and self.head is not None:
                    why.append(
                        f"{_mib(scan.size)} of it read: a head-only open stops at {self.head.stop}"
                    )
                incomplete[pid] = (
                    f"scanned {_mib(scan.end)} of {_mib(declared or scan.size)} "
                    f"({'; '.join(why)}); the rest may import more modules"
                )
            elif scan.invalid is not None:
                invalid[pid] = f"not a valid pickle: {scan.invalid}; unpickling it would fail there"
        return ImportScan(found, incomplete, invalid)

    def _unread(self, member: str | None) -> str:
        if member is None:
            return "the manifest names no member for it"
        if self.head is not None:
            return f"not read: a head-only open stopped at {self.head.stop}"
        return f"its member {member!r} is missing"


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"
