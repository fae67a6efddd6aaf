"""Reading snapshots safely: limits first, integrity always, unpickling only on request.

Untrusted input is the normal case here: a file copied off a cluster, maybe cut
short, maybe from someone else.  The reader walks the zstd frames before
decompressing, enforces the limits of :class:`ReadLimits` while it decompresses,
parses tar headers itself (regular files with safe relative names only; nothing
is ever extracted to disk), checks the HMAC before anything is unpickled, and
translates every foreign error into a :class:`SnapshotError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mmap
import os
import re
import stat
import tarfile
from collections.abc import Callable
from typing import IO, Any

import zstandard

from ._errors import (
    SnapshotError,
    SnapshotFormatError,
    SnapshotLimitError,
    SnapshotNotFoundError,
    SnapshotReadError,
    SnapshotSignatureError,
    SnapshotTruncatedError,
    SnapshotVersionError,
)
from ._format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAC_ALGORITHM,
    MANIFEST_MEMBER,
    SIGNATURE_MEMBER,
    mac_member,
)
from ._limits import ReadLimits
from ._manifest import Manifest, parse_manifest
from ._snapshot import BUFFER_PREFIX, Snapshot
from ._zstdframes import ZSTD_MAGIC, FrameProblem, frame_header, walk_frames

Progress = Callable[[int, int], None]

_SAFE_NAME = re.compile(
    r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*"
)  # fullmatch: "$" allows a final newline
_READ_CHUNK = 1 << 20
_MEMBER_CHUNK = 8 << 20
SUPPORTED_MAJOR = int(FORMAT_VERSION.split(".")[0])


class _CountingFile:
    """The compressed file, counting what has been read for progress reports."""

    def __init__(self, fh: IO[bytes], total: int, progress: Progress | None) -> None:
        self.fh = fh
        self.total = total
        self.done = 0
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.done += len(data)
        if self.progress is not None:
            self.progress(self.done, self.total)
        return data

    def readinto(self, b: Any) -> int:
        n = self.fh.readinto(b)  # type: ignore[attr-defined]
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)
        return int(n)


class _TarReader:
    """Sequential reader of the tar layer over the decompressed stream."""

    def __init__(
        self, stream: Any, path: str, limits: ReadLimits, bound: int | None = None
    ) -> None:
        self.stream = stream
        self.path = path
        self.limits = limits
        self.total = 0
        self.count = 0
        self.ended = False
        # What the frames can decompress to at most (from the frame walk), or None.
        self.bound = bound

    def _read_into(self, view: memoryview) -> None:
        filled = 0
        while filled < len(view):
            n = self.stream.readinto(view[filled:])
            if not n:
                raise self._truncated()
            filled += n
        self._count(len(view))

    def _count(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise SnapshotLimitError(
                f"{self.path}: decompressed content exceeds the read limit of "
                f"{self.limits.max_total_bytes} bytes; if the snapshot is genuine, raise "
                "ReadLimits.max_total_bytes",
                path=self.path,
            )

    def _truncated(self) -> SnapshotTruncatedError:
        return SnapshotTruncatedError(
            f"{self.path}: the snapshot ends early (the tar archive inside is cut short); "
            "the file was probably truncated while being copied: copy it again",
            path=self.path,
        )

    def _read(self, n: int) -> bytes:
        buf = bytearray(n)
        self._read_into(memoryview(buf))
        return bytes(buf)

    def next(self) -> tuple[str, int] | None:
        """The next member's (name, size), or None at the end of the archive."""
        pax: dict[str, str] = {}
        while True:
            block = self._read(tarfile.BLOCKSIZE)
            if block == bytes(tarfile.BLOCKSIZE):
                self.ended = True
                return None
            try:
                info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
            except tarfile.HeaderError as exc:
                raise SnapshotFormatError(
                    f"{self.path}: damaged tar header ({exc}); the file is corrupt",
                    path=self.path,
                ) from exc
            if info.type == tarfile.XHDTYPE:
                if info.size > 1 << 20:
                    raise SnapshotLimitError(f"{self.path}: oversized pax header", path=self.path)
                data = self._read(_padded(info.size))[: info.size]
                pax.update(_parse_pax(data, self.path))
                continue
            name = pax.get("path", info.name)
            size = int(pax["size"]) if "size" in pax else info.size
            if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
                raise SnapshotFormatError(
                    f"{self.path}: member {name!r} is not a regular file (tar type "
                    f"{info.type!r}); snapshots hold regular files only",
                    path=self.path,
                )
            if not _SAFE_NAME.fullmatch(name) or ".." in name.split("/"):
                raise SnapshotFormatError(
                    f"{self.path}: unsafe member name {name!r}; this is not a dask-replay "
                    "snapshot, or it was tampered with",
                    path=self.path,
                )
            self.count += 1
            if self.count > self.limits.max_members:
                raise SnapshotLimitError(
                    f"{self.path}: more than {self.limits.max_members} members "
                    "(ReadLimits.max_members)",
                    path=self.path,
                )
            if (
                size > self.limits.max_member_bytes
                or size + self.total > self.limits.max_total_bytes
            ):
                raise SnapshotLimitError(
                    f"{self.path}: member {name!r} declares {size} bytes, above the read limit "
                    f"(ReadLimits.max_member_bytes={self.limits.max_member_bytes}, "
                    f"max_total_bytes={self.limits.max_total_bytes})",
                    path=self.path,
                )
            return name, size

    def data(self, size: int) -> bytearray:
        if self.bound is not None:
            # The frame walk bounds what the file can hold: a member within it
            # is read straight into its final buffer, zstd writing into it (one
            # copy); one beyond it cannot be complete.
            if self.total + size > self.bound:
                raise self._truncated()
            buf = _allocate(size)
            self._read_into(memoryview(buf))
            pad = _padded(size) - size
            if pad:
                self._read(pad)
            return buf
        # Without a bound, grown as the data arrives, never allocated from the
        # declared size: a 300-byte file whose header claims 3 GiB must not
        # cost 3 GiB of RAM.
        buf = bytearray()
        while len(buf) < size:
            chunk = self.stream.read(min(size - len(buf), _MEMBER_CHUNK))
            if not chunk:
                raise self._truncated()
            buf += chunk
            self._count(len(chunk))
        pad = _padded(size) - size
        if pad:
            self._read(pad)
        return buf


#: Members from this size up get fresh pages from the kernel instead of a bytearray.
_MAP_FROM = 1 << 20


def _allocate(size: int) -> Any:
    """A writable buffer of ``size`` bytes for zstd to decompress into.

    ``bytearray(n)`` zero-fills its memory before zstd overwrites it, touching
    every page twice; an anonymous mapping is zeroed by the kernel page by page
    as zstd first writes it.  On 512 MiB that saves some 0.2 s, and the
    unpickled numpy array then lives on these pages without a copy.
    """
    if size < _MAP_FROM:
        return bytearray(size)
    mapped = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            mapped.madvise(mmap.MADV_HUGEPAGE)  # fewer page faults where THP is on
        except OSError:
            pass
    return mapped


def _padded(size: int) -> int:
    return -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def _parse_pax(data: bytes, path: str) -> dict[str, str]:
    out = {}
    pos = 0
    try:
        while pos < len(data):
            space = data.index(b" ", pos)
            length = int(data[pos:space])
            record = data[space + 1 : pos + length - 1].decode("utf-8", "surrogateescape")
            key, _, value = record.partition("=")
            out[key] = value
            if length <= 0:
                raise ValueError("empty pax record")
            pos += length
    except ValueError as exc:
        raise SnapshotFormatError(f"{path}: damaged pax header: {exc}", path=path) from exc
    return out


def _open(path: str) -> IO[bytes]:
    """Open a regular file for reading; anything else (directory, FIFO, device) is refused.

    O_NONBLOCK keeps opening a FIFO from waiting for a writer forever; it has
    no effect on regular files.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise SnapshotNotFoundError(
            f"{path}: no such file; check the path (snapshots are written to the worker's "
            "snapshot.directory; `python -m replay list DIR` lists them)",
            path=path,
        ) from exc
    except OSError as exc:
        raise SnapshotReadError(f"{path}: cannot open: {exc.strerror or exc}", path=path) from exc
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise SnapshotReadError(
                f"{path}: is a directory, not a snapshot file; `python -m replay list {path}` "
                "lists the snapshots in it",
                path=path,
            )
        if not stat.S_ISREG(mode):
            raise SnapshotReadError(
                f"{path}: not a regular file (a FIFO, socket or device); copy the snapshot "
                "to a file first",
                path=path,
            )
        return os.fdopen(fd, "rb")
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError) and not isinstance(exc, SnapshotReadError):
            raise SnapshotReadError(
                f"{path}: cannot open: {exc.strerror or exc}", path=path
            ) from exc
        raise


def _check_start(fh: IO[bytes], path: str, limits: ReadLimits) -> None:
    head = fh.read(4)
    if head != ZSTD_MAGIC:
        what = "is empty" if not head else f"does not start with the zstd magic (starts {head!r})"
        raise SnapshotFormatError(
            f"{path}: not a snapshot: the file {what}; dask-replay snapshots are "
            "zstd-compressed tar files (.zst) written by cluster_hook",
            path=path,
        )
    fh.seek(0)
    try:
        declared, _ = frame_header(fh)
    except FrameProblem as exc:
        raise _frame_error(path, exc) from exc
    if declared is not None and declared > limits.max_total_bytes:
        raise SnapshotLimitError(
            f"{path}: the zstd frame declares {declared} bytes of content, above the read "
            f"limit of {limits.max_total_bytes}; refusing to decompress it",
            path=path,
        )
    fh.seek(0)


def _frame_error(path: str, exc: FrameProblem) -> SnapshotFormatError:
    if exc.over_limit:
        return SnapshotLimitError(
            f"{path}: {exc}; if the snapshot is genuine, raise ReadLimits.max_total_bytes",
            path=path,
        )
    if exc.truncated:
        return SnapshotTruncatedError(
            f"{path}: truncated: {exc}; the copy was probably interrupted: copy the file again",
            path=path,
        )
    return SnapshotFormatError(f"{path}: corrupt zstd stream: {exc}", path=path)


def _decompressing(fh: IO[bytes], *, across_frames: bool = True) -> Any:
    return zstandard.ZstdDecompressor().stream_reader(
        fh, read_size=_READ_CHUNK, read_across_frames=across_frames, closefd=False
    )


#: How far past manifest.json read_manifest looks for the end of the first frame.
_MANIFEST_FRAME_SLACK = 64 * 1024


def _finish_first_frame(stream: Any) -> None:
    """Read on to the end of the first zstd frame, if it is near: zstd then checks
    the frame's checksum, so the manifest just parsed is verified too.  Writers
    end the first frame right after manifest.json (spec: byte layout); a file
    that does not is read no further, keeping read_manifest's cost constant."""
    budget = _MANIFEST_FRAME_SLACK
    while budget > 0:
        chunk = stream.read(min(budget, 16 * 1024))
        if not chunk:
            return
        budget -= len(chunk)


def _parse_manifest(data: bytes, path: str) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    # ValueError covers bad UTF-8, bad JSON and over-long integers; a deeply
    # nested manifest exhausts the recursion limit of the JSON decoder.
    except (ValueError, RecursionError) as exc:
        raise SnapshotFormatError(
            f"{path}: manifest.json is not valid UTF-8 JSON ({exc}); the file is corrupt",
            path=path,
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise SnapshotFormatError(
            f"{path}: not a dask-replay snapshot (manifest format is "
            f"{manifest.get('format') if isinstance(manifest, dict) else None!r})",
            path=path,
        )
    version = manifest.get("format_version")
    match = re.fullmatch(r"(\d+)\.(\d+)", version) if isinstance(version, str) else None
    if match is None:
        raise SnapshotFormatError(f"{path}: bad format_version {version!r}", path=path)
    if int(match.group(1)) > SUPPORTED_MAJOR:
        raise SnapshotVersionError(
            f"{path}: written by snapshot format {version}, but this reader knows "
            f"{SUPPORTED_MAJOR}.x; upgrade dask-replay (pip install -U dask-replay)",
            path=path,
        )
    return manifest


def _translate(path: str, exc: BaseException) -> SnapshotError:
    if isinstance(exc, SnapshotError):
        return exc
    if isinstance(exc, zstandard.ZstdError):
        return SnapshotFormatError(
            f"{path}: corrupt: zstd could not decompress it ({exc}); the file was damaged "
            "in storage or transfer: copy it again from the worker",
            path=path,
        )
    if isinstance(exc, MemoryError):
        return SnapshotLimitError(f"{path}: not enough memory to read the snapshot", path=path)
    if isinstance(exc, OSError):
        return SnapshotReadError(f"{path}: read error: {exc.strerror or exc}", path=path)
    return SnapshotFormatError(f"{path}: corrupt: {type(exc).__name__}: {exc}", path=path)


def read_manifest(
    path: str | os.PathLike[str], *, limits: ReadLimits | None = None
) -> dict[str, Any]:
    """Return the manifest, decompressing only as far as it; never unpickles.

    Its cost does not depend on the snapshot's size.  The first zstd frame,
    which holds only the manifest in files from this writer, is read to its end
    so that its checksum is verified; the rest of the file is checked only by
    :func:`open_snapshot`.
    """
    limits = limits or ReadLimits()
    name = os.fspath(path)
    with _open(name) as fh:
        try:
            _check_start(fh, name, limits)
            stream = _decompressing(fh, across_frames=False)
            tar = _TarReader(stream, name, limits)
            first = tar.next()
            if first is None or first[0] != MANIFEST_MEMBER:
                raise SnapshotFormatError(
                    f"{name}: the first member is {first and first[0]!r}, not manifest.json; "
                    "not a dask-replay snapshot",
                    path=name,
                )
            if first[1] > limits.max_manifest_bytes:
                raise SnapshotLimitError(
                    f"{name}: manifest.json is {first[1]} bytes, above the read limit "
                    f"({limits.max_manifest_bytes})",
                    path=name,
                )
            data = bytes(tar.data(first[1]))
            _finish_first_frame(stream)
            return _parse_manifest(data, name)
        except Exception as exc:
            raise _translate(name, exc) from exc


def read_model(path: str | os.PathLike[str], *, limits: ReadLimits | None = None) -> Manifest:
    """The typed model of the manifest (:func:`read_manifest`, then :func:`parse_manifest`)."""
    return parse_manifest(read_manifest(path, limits=limits), path=os.fspath(path))


def open_snapshot(
    path: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    allow_unsigned: bool = False,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
    head_only: bool = False,
) -> Snapshot:
    """Read and verify a whole snapshot into memory; nothing is unpickled yet.

    With ``key``, the HMAC is checked before this returns, and an unsigned file
    is refused unless ``allow_unsigned``.  ``progress(done, total)`` is called
    with compressed bytes read.

    ``head_only`` stops at the first out-of-band buffer, which writers place
    last: the manifest, the in-band pickles and the sources are read, and the
    cost no longer grows with the size of the data.  Such a snapshot is for
    inspection (``imports()``, ``source()``): its frames past the head are not
    checked, and loading a piece that needs a buffer is an error.  A signature
    covers the whole file, so ``head_only`` cannot go with ``key``.
    """
    if head_only and key is not None:
        raise ValueError("a signature covers the whole file: head_only cannot verify it")
    limits = limits or ReadLimits()
    name = os.fspath(path)
    with _open(name) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            _check_start(fh, name, limits)
            bound = None
            if not head_only:
                try:
                    _, bound = walk_frames(fh, size, limits.max_total_bytes)
                except FrameProblem as exc:
                    raise _frame_error(name, exc) from exc
                fh.seek(0)
            counted = _CountingFile(fh, size, progress)
            members, signature, mac = _read_members(counted, name, limits, key, head_only, bound)
        except Exception as exc:
            raise _translate(name, exc) from exc
    # The version first (a newer major may sign differently), then the
    # signature, then consistency: an altered file is reported as altered.
    manifest = _parse_manifest(bytes(members.pop(MANIFEST_MEMBER)), name)
    verified = False
    if key is not None:
        if signature is None:
            if not allow_unsigned:
                raise SnapshotSignatureError(
                    f"{name}: the snapshot is not signed, but a key was given; refusing to "
                    "trust it (pass allow_unsigned=True / --allow-unsigned to accept it)",
                    path=name,
                )
        else:
            # compare_digest refuses non-ASCII str: compare bytes.
            claimed = str(signature.get("mac", "")).encode("utf-8", "surrogateescape")
            if signature.get("algorithm") != MAC_ALGORITHM or not hmac.compare_digest(
                claimed, mac.encode("ascii")
            ):
                raise SnapshotSignatureError(
                    f"{name}: the HMAC signature does not match: the file was altered or "
                    "signed with another key; do not unpickle it",
                    path=name,
                )
            verified = True
    model = parse_manifest(manifest, path=name)
    _check_declared_sizes(model, members, name)
    return Snapshot(
        name,
        manifest,
        members,
        signed=signature is not None,
        verified=verified,
        head_only=head_only,
        model=model,
    )


def _check_declared_sizes(model: Manifest, members: dict[str, bytearray], path: str) -> None:
    """Each buffer and source member has the size (and a source the SHA-256) declared."""
    records: list[tuple[str, Any]] = [
        *(("buffers", r) for r in (model.buffers or {}).values()),
        *(("sources", r) for r in (model.sources or {}).values()),
    ]
    for section, entry in records:
        data = members.get(entry.member) if entry.member is not None else None
        if data is None:
            continue
        if len(data) != entry.size:
            raise SnapshotFormatError(
                f"{path}: member {entry.member!r} holds {len(data)} bytes but the "
                f"manifest declares {entry.size!r}; the file is corrupt or was "
                "tampered with",
                path=path,
            )
        digest = getattr(entry, "sha256", None)
        if section == "sources" and digest is not None:
            if hashlib.sha256(data).hexdigest() != digest.lower():
                raise SnapshotFormatError(
                    f"{path}: source member {entry.member!r} does not match the SHA-256 the "
                    "manifest records; the file is corrupt or was tampered with",
                    path=path,
                )


def _read_members(
    fh: Any,
    path: str,
    limits: ReadLimits,
    key: bytes | None,
    head_only: bool = False,
    bound: int | None = None,
) -> tuple[dict[str, bytearray], dict[str, Any] | None, str]:
    stream = _decompressing(fh)
    tar = _TarReader(stream, path, limits, bound)
    mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
    members: dict[str, bytearray] = {}
    signature = None
    digest = ""
    while True:
        entry = tar.next()
        if entry is None:
            break
        name, size = entry
        if signature is not None:
            raise SnapshotFormatError(f"{path}: a member follows the signature", path=path)
        if not members and name != MANIFEST_MEMBER:
            raise SnapshotFormatError(
                f"{path}: the first member is {name!r}, not manifest.json; not a dask-replay "
                "snapshot",
                path=path,
            )
        if name == MANIFEST_MEMBER and size > limits.max_manifest_bytes:
            raise SnapshotLimitError(f"{path}: manifest.json is too large ({size})", path=path)
        if name in members:
            raise SnapshotFormatError(f"{path}: duplicate member {name!r}", path=path)
        if head_only and name.startswith(BUFFER_PREFIX):
            return members, None, ""
        data = tar.data(size)
        if name == SIGNATURE_MEMBER:
            if mac is not None:
                digest = mac.hexdigest()
            try:
                signature = json.loads(bytes(data))
            except (ValueError, RecursionError) as exc:
                raise SnapshotFormatError(f"{path}: damaged signature.json", path=path) from exc
            if not isinstance(signature, dict):
                raise SnapshotFormatError(f"{path}: damaged signature.json", path=path)
            continue
        if mac is not None:
            mac_member(mac, name, size)
            mac.update(data)
        members[name] = data
    if MANIFEST_MEMBER not in members:
        raise SnapshotFormatError(f"{path}: no manifest.json; not a snapshot", path=path)
    # Whatever follows the end-of-archive blocks must be padding: read it so the
    # frame checksum is verified over the whole stream.  It counts against the
    # limit like the rest: a stream of zeros is the cheapest decompression bomb.
    while True:
        rest = stream.read(_READ_CHUNK)
        if not rest:
            break
        tar.total += len(rest)
        if tar.total > limits.max_total_bytes:
            raise SnapshotLimitError(
                f"{path}: decompressed content exceeds the read limit of "
                f"{limits.max_total_bytes} bytes (padding after the end of the archive); "
                "if the snapshot is genuine, raise ReadLimits.max_total_bytes",
                path=path,
            )
        if rest.count(0) != len(rest):
            raise SnapshotFormatError(f"{path}: data after the end of the archive", path=path)
    return members, signature, digest
