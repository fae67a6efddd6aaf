"""The byte layer of writing: a tar stream inside a zstd stream, atomically on disk.

The tar headers are built here (``tarfile`` for the rare long or non-ASCII name); the
member data is written straight from the caller's buffers so that a large
numpy input is never copied into one big bytes object.  The file appears under
its final name only once it is complete and fsynced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import xxhash
import zstandard

from .._errors import SnapshotWriteError
from .._format import MAC_ALGORITHM, SIGNATURE_MEMBER, mac_member

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
CHUNK = 4 * 1024 * 1024
Data = bytes | bytearray | memoryview


class ZstdSink:
    """A zstd stream of one or more frames over a raw file.

    Large members get a frame of their own, started at their first byte: the
    data then compresses exactly as ``zstd`` would compress it as a file
    (zstd's multi-threaded matcher is sensitive to where data starts), and each
    buffer gets a level fit for it: barely-compressible data is not worth the
    CPU of a real compression level.
    """

    def __init__(self, raw: IO[bytes], *, level: int, threads: int) -> None:
        self.raw = raw
        self.level = level
        self.threads = threads
        self._writer: Any = None
        self.frames = 0
        self.start_frame(level, 0)

    def start_frame(self, level: int, threads: int) -> None:
        self.end_frame()
        # The frame checksum is off by default in python-zstandard; without it
        # most bit flips decompress silently into wrong bytes.  The content size
        # is never written: readers must not trust it anyway.
        compressor = zstandard.ZstdCompressor(
            level=level, write_checksum=True, write_content_size=False, threads=threads
        )
        self._writer = compressor.stream_writer(self.raw, closefd=False, write_return_read=True)
        self.frames += 1

    def end_frame(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write(self, data: Data) -> None:
        self._writer.write(data)

    def write_stored(self, view: memoryview) -> None:
        """Write ``view`` as a frame of raw (stored) blocks, checksummed, uncompressed.

        This is the zstd format's own way of holding data that does not
        compress (RFC 8878, Raw_Block): the cost is the disk write and an
        XXH64 pass, with no compression work at all.
        """
        self.end_frame()
        digest = xxhash.xxh64(seed=0)
        fd = self.raw.fileno()
        # Frame_Header_Descriptor 0x04: checksum flag, no content size, no
        # dictionary, not single-segment; Window_Descriptor 0x38: 2**17 bytes,
        # the size of one block.
        batch: list[Data] = [ZSTD_MAGIC_BYTES + b"\x04\x38"]
        total = view.nbytes
        for start in range(0, max(total, 1), RAW_BLOCK):
            block = view[start : start + RAW_BLOCK]
            last = 1 if start + RAW_BLOCK >= total else 0
            batch.append(((block.nbytes << 3) | last).to_bytes(3, "little"))
            batch.append(block)
            digest.update(block)
            if len(batch) >= 256:
                _writev_all(fd, batch)
                batch = []
        batch.append((digest.intdigest() & 0xFFFFFFFF).to_bytes(4, "little"))
        _writev_all(fd, batch)
        self.frames += 1


#: Members at least this large get a zstd frame of their own.
OWN_FRAME_BYTES = 4 * 1024 * 1024
#: Small members are gathered up to this many bytes before one write to the sink.
BATCH_BYTES = 256 * 1024
#: Below this sampled compression ratio a buffer is stored without compression.
INCOMPRESSIBLE_RATIO = 1.10
RAW_BLOCK = 128 * 1024
ZSTD_MAGIC_BYTES = b"\x28\xb5\x2f\xfd"


def _writev_all(fd: int, buffers: list[Data]) -> None:
    views = [memoryview(b).cast("B") for b in buffers]
    while views:
        written = os.writev(fd, views[:1024])
        while written and views:
            if written >= views[0].nbytes:
                written -= views[0].nbytes
                views.pop(0)
            else:
                views[0] = views[0][written:]
                written = 0


def is_compressible(view: memoryview) -> bool:
    """Whether one large buffer is worth compressing at all.

    Three 128 KiB samples (start, middle, end) are compressed at level 1; this
    costs well under a millisecond per sample and avoids spending seconds on
    data that shrinks by a few percent.
    """
    view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    sample = 128 * 1024
    if view.nbytes < 4 * sample:
        return True
    compressor = zstandard.ZstdCompressor(level=1)
    middle = view.nbytes // 2
    raw = 0
    packed = 0
    for start in (0, middle, view.nbytes - sample):
        chunk = view[start : start + sample]
        raw += chunk.nbytes
        packed += len(compressor.compress(chunk))
    return raw / max(packed, 1) >= INCOMPRESSIBLE_RATIO


_USTAR_TAIL = b"ustar\x0000" + bytes(64 + 16 + 155 + 12)  # no device numbers, as tarfile
_FIXED = b"0000600\x00" + b"0000000\x00" * 2
_PADDING = [bytes((BLOCK - r) % BLOCK) for r in range(BLOCK)]
_REST = b"0" + bytes(100) + _USTAR_TAIL  # type flag, link name, the rest
_CONSTANT_SUM = sum(_FIXED) + 8 * 32 + sum(_REST)
#: Sizes below this fit the 11 octal digits of a ustar header (8 GiB).
_USTAR_MAX_SIZE = 8**11


def member_header(name: str, size: int, mtime: int) -> bytes:
    """The 512-byte header of a regular member, mode 0600, uid/gid 0.

    Built directly for short ASCII names and sizes below 8 GiB (every member
    the writer names), byte for byte what ``tarfile.TarInfo.tobuf`` makes in
    PAX format, at a fraction of its cost; anything else goes to ``tarfile``.
    """
    if len(name) < 100 and name.isascii() and size < _USTAR_MAX_SIZE and 0 <= mtime < 8**11:
        encoded = name.encode("ascii")
        numbers = b"%011o\x00%011o\x00" % (size, mtime)
        # The checksum is computed with its own field as eight spaces.
        checksum = sum(encoded) + sum(numbers) + _CONSTANT_SUM
        return encoded.ljust(100, b"\x00") + _FIXED + numbers + b"%06o\x00 " % checksum + _REST
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = mtime
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


class TarStream:
    """A write-only POSIX tar stream over a :class:`ZstdSink` (or any ``write``)."""

    def __init__(self, write: Callable[[Data], Any], key: bytes | None = None) -> None:
        self._write = write
        self._sink = getattr(write, "__self__", None)
        self._mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
        self._mtime = int(time.time())
        self.members = 0
        self.bytes_written = 0
        # Small members (a frame's local) gather here and reach the sink in one
        # write: a recursion 900 deep has 1,500 of them.
        self._batch = bytearray()

    def add(self, name: str, data: Data | Iterable[Data], size: int | None = None) -> None:
        """Append one regular-file member; ``data`` may be a buffer or chunks totalling ``size``."""
        if type(data) is bytes and len(data) < OWN_FRAME_BYTES:
            # The common small member (a frame's local): header, data and padding in one write.
            n = len(data)
            if self._mac is not None:
                mac_member(self._mac, name, n)
                self._mac.update(data)
            batch = self._batch
            batch += member_header(name, n, self._mtime)
            batch += data
            batch += _PADDING[n % BLOCK]
            if len(batch) >= BATCH_BYTES:
                self._flush()
            self.members += 1
            return
        if isinstance(data, bytes | bytearray | memoryview):
            chunks: Iterable[Data] = (data,)
            size = memoryview(data).nbytes
        else:
            chunks = data
            if size is None:
                raise ValueError("size is required when data is an iterable of chunks")
        self._emit(member_header(name, size, self._mtime))
        if self._mac is not None:
            mac_member(self._mac, name, size)
        sink = self._sink if isinstance(self._sink, ZstdSink) else None
        whole = data if isinstance(data, bytes | bytearray | memoryview) else None
        own_frame = sink is not None and size >= OWN_FRAME_BYTES
        written = 0
        if own_frame and whole is not None and not is_compressible(memoryview(whole)):
            assert sink is not None
            view = memoryview(whole).cast("B")
            sink.write_stored(view)
            self.bytes_written += view.nbytes
            if self._mac is not None:
                self._mac.update(view)
            written = size
            chunks = ()
        elif own_frame:
            assert sink is not None
            sink.start_frame(sink.level, sink.threads)
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            for start in range(0, view.nbytes, CHUNK):
                part = view[start : start + CHUNK]
                self._emit(part)
                if self._mac is not None:
                    self._mac.update(part)
            written += view.nbytes
        if written != size:
            raise ValueError(f"member {name!r}: declared {size} bytes, got {written}")
        if own_frame:
            assert sink is not None
            sink.start_frame(sink.level, 0)
        remainder = size % BLOCK
        if remainder:
            self._emit(bytes(BLOCK - remainder))
        self.members += 1

    def end_frame(self) -> None:
        """End the current zstd frame here; what follows starts a new one."""
        self._flush()
        sink = self._sink if isinstance(self._sink, ZstdSink) else None
        if sink is not None:
            sink.start_frame(sink.level, 0)

    def close(self) -> None:
        """Write the signature (if keyed) and the end-of-archive blocks."""
        if self._mac is not None:
            signature = {
                "algorithm": MAC_ALGORITHM,
                "members": self.members,
                "mac": self._mac.hexdigest(),
            }
            self._mac = None
            self.add(SIGNATURE_MEMBER, json.dumps(signature, indent=1).encode())
        self._emit(bytes(2 * BLOCK))
        remainder = self.bytes_written % RECORD
        if remainder:
            self._emit(bytes(RECORD - remainder))

    def _emit(self, data: Data) -> None:
        if self._batch:
            self._flush()
        self._write(data)
        self.bytes_written += memoryview(data).nbytes

    def _flush(self) -> None:
        """Write the gathered small members (before anything else reaches the sink)."""
        batch, self._batch = self._batch, bytearray()
        if batch:
            self._write(batch)
            self.bytes_written += len(batch)


def write_atomically(
    target: str | os.PathLike[str],
    produce: Callable[[TarStream], None],
    *,
    key: bytes | None = None,
    level: int = 1,
    threads: int = 0,
) -> Path:
    """Create ``target`` (mode 0600) from what ``produce`` adds to the tar stream.

    Written to a hidden temporary file beside the target, fsynced, then renamed:
    a crash leaves either nothing or a complete snapshot, never half of one.
    """
    target = Path(target)
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise SnapshotWriteError(
            f"{target}: cannot create the snapshot file: {exc.strerror or exc}; "
            "check that the directory exists and is writable (snapshot.directory)",
            path=str(target),
        ) from exc
    try:
        with os.fdopen(fd, "wb", buffering=0) as raw:
            _compress_into(raw, produce, key=key, level=level, threads=threads)
            os.fsync(raw.fileno())
        os.replace(tmp_name, target)
        _fsync_directory(directory)
    except BaseException as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SnapshotWriteError(
                f"{target}: writing the snapshot failed: {exc.strerror or exc}; "
                "free some space or choose another snapshot.directory",
                path=str(target),
            ) from exc
        raise
    return target


def _compress_into(
    raw: IO[bytes],
    produce: Callable[[TarStream], None],
    *,
    key: bytes | None,
    level: int,
    threads: int,
) -> None:
    sink = ZstdSink(raw, level=level, threads=threads)
    tar = TarStream(sink.write, key=key)
    produce(tar)
    tar.close()
    sink.end_frame()


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
