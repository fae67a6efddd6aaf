"""The byte layer of writing: a tar stream inside a zstd stream, atomically on disk.

The tar headers come from :class:`tarfile.TarInfo` (PAX where needed); the
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

import zstandard

from ._errors import SnapshotWriteError

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
CHUNK = 4 * 1024 * 1024
SIGNATURE_MEMBER = "signature.json"
MAC_ALGORITHM = "hmac-sha256"

Data = bytes | bytearray | memoryview


def mac_member(mac: Any, name: str, size: int) -> None:
    """Feed one member's framing into the HMAC (the spec's signing input)."""
    encoded = name.encode("utf-8")
    mac.update(len(encoded).to_bytes(4, "big") + encoded + size.to_bytes(8, "big"))


class TarStream:
    """A write-only POSIX tar stream over any ``write`` callable."""

    def __init__(self, write: Callable[[Data], Any], key: bytes | None = None) -> None:
        self._write = write
        self._mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
        self._mtime = int(time.time())
        self.members = 0
        self.bytes_written = 0

    def add(self, name: str, data: Data | Iterable[Data], size: int | None = None) -> None:
        """Append one regular-file member; ``data`` may be a buffer or chunks totalling ``size``."""
        if isinstance(data, bytes | bytearray | memoryview):
            chunks: Iterable[Data] = (data,)
            size = memoryview(data).nbytes
        else:
            chunks = data
            if size is None:
                raise ValueError("size is required when data is an iterable of chunks")
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o600
        info.mtime = self._mtime
        info.type = tarfile.REGTYPE
        self._emit(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        if self._mac is not None:
            mac_member(self._mac, name, size)
        written = 0
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
        remainder = size % BLOCK
        if remainder:
            self._emit(bytes(BLOCK - remainder))
        self.members += 1

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
        self._write(data)
        self.bytes_written += memoryview(data).nbytes


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
    # The frame checksum is off by default in python-zstandard; without it most
    # bit flips decompress silently into wrong bytes.  The content size is not
    # known up front in streaming mode, and readers never trust it anyway.
    compressor = zstandard.ZstdCompressor(level=level, write_checksum=True, threads=threads)
    with compressor.stream_writer(raw, closefd=False, write_return_read=True) as zstream:
        tar = TarStream(zstream.write, key=key)
        produce(tar)
        tar.close()


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
