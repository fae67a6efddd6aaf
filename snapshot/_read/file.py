"""The file and its zstd layer: open a regular file only, check its start, walk its frames.

python-zstandard reports a truncated stream as a clean end of data and trusts
every declared size; these checks come first (spec, rules 8.1 and 8.2).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import IO, Any

import zstandard

from .._errors import (
    SnapshotFormatError,
    SnapshotLimitError,
    SnapshotNotFoundError,
    SnapshotReadError,
    SnapshotTruncatedError,
)
from .._limits import ReadLimits
from .zstdframes import ZSTD_MAGIC, FrameProblem, frame_header, walk_frames

Progress = Callable[[int, int], None]
READ_CHUNK = 1 << 20


def open_file(path: str) -> IO[bytes]:
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


def check_start(fh: IO[bytes], path: str, limits: ReadLimits) -> None:
    """The zstd magic, and a first frame that declares no size beyond the limit."""
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
        raise frame_error(path, exc) from exc
    if declared is not None and declared > limits.max_total_bytes:
        raise SnapshotLimitError(
            f"{path}: the zstd frame declares {declared} bytes of content, above the read "
            f"limit of {limits.max_total_bytes}; refusing to decompress it",
            path=path,
        )
    fh.seek(0)


def file_size(fh: Any) -> int:
    """The size of an open file: its ``size`` (fsspec's files have one), else ``fstat``,
    else its end (an ``io.BytesIO``)."""
    size = getattr(fh, "size", None)
    if isinstance(size, int):
        return size
    try:
        return os.fstat(fh.fileno()).st_size
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        where = fh.tell()
        end = int(fh.seek(0, os.SEEK_END))
        fh.seek(where)
        return end


def content_bound(fh: IO[bytes], path: str, limits: ReadLimits) -> int:
    """Walk every frame (rule 8.2); the most the file can decompress to."""
    size = file_size(fh)
    try:
        _, bound = walk_frames(fh, size, limits.max_total_bytes)
    except FrameProblem as exc:
        raise frame_error(path, exc) from exc
    fh.seek(0)
    return bound


def frame_error(path: str, exc: FrameProblem) -> SnapshotFormatError:
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


def decompressing(fh: Any, *, across_frames: bool = True, read_size: int = READ_CHUNK) -> Any:
    return zstandard.ZstdDecompressor().stream_reader(
        fh, read_size=read_size, read_across_frames=across_frames, closefd=False
    )


class CountingFile:
    """The compressed file, counting what has been read for progress reports."""

    def __init__(self, fh: IO[bytes], progress: Progress | None) -> None:
        self.fh = fh
        self.total = file_size(fh)
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
