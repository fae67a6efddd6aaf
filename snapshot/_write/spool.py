"""Where a piece's in-band pickle goes while it is made: memory when small, a file when not.

A tar member's header carries its size, so a pickle must be complete before
its member is written; holding every pickle whole in memory until then costs
a copy of the data.  A :class:`Spool` keeps the first bytes of a pickle in
memory and moves it to an anonymous temporary file (unlinked at creation, so a
killed process leaves nothing behind) once it outgrows its memory allowance.
The pickler writes here in pieces of about 64 KiB (protocol 5 framing), so
memory stays bounded whatever the object.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

#: One read when a spooled pickle is copied into the tar stream.
COPY_CHUNK = 4 * 1024 * 1024


class CapExceeded(Exception):
    """The pickle in progress would pass its size cap."""


class Abandoned(Exception):
    """The capture was cancelled from another thread while this pickle was made."""


class Progress:
    """A count of the work a capture has done: bytes pickled, buffers met, pieces finished.

    Written by the capture thread only, read by the waiting one: a count that
    stays the same for ``snapshot.capture-stall-timeout`` means the capture is
    stuck in an object's own code (``budget``).
    """

    __slots__ = ("ticks",)

    def __init__(self) -> None:
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1


class Spool:
    """A write-only file for the pickler, capped at ``limit`` bytes."""

    def __init__(
        self,
        limit: int,
        *,
        memory: int,
        directory: str | os.PathLike[str] | None,
        cancel: threading.Event | None,
        progress: Progress | None = None,
    ) -> None:
        self.limit = limit
        self.progress = progress
        self.memory = memory
        self.directory = directory
        self.cancel = cancel
        self.size = 0
        self.extra = 0  # out-of-band bytes counted against the same cap
        self._data: bytearray | None = bytearray()
        self._file: IO[bytes] | None = None

    def write(self, chunk: Any) -> int:
        if self.cancel is not None and self.cancel.is_set():
            raise Abandoned
        if self.progress is not None:
            self.progress.tick()
        n = len(chunk) if type(chunk) is bytes else memoryview(chunk).nbytes
        if self.size + self.extra + n > self.limit:
            raise CapExceeded
        if self._file is None:
            assert self._data is not None
            if len(self._data) + n <= self.memory:
                self._data += chunk
                self.size += n
                return n
            self._file = tempfile.TemporaryFile(dir=self.directory)
            self._file.write(self._data)
            self._data = None
        self._file.write(chunk)
        self.size += n
        return n

    def count(self, nbytes: int) -> None:
        """Count out-of-band bytes against the cap."""
        if self.progress is not None:
            self.progress.tick()
        self.extra += nbytes
        if self.size + self.extra > self.limit:
            raise CapExceeded

    def reserve(self, nbytes: int) -> None:
        """Raise :class:`CapExceeded` now if ``nbytes`` more would pass the cap.

        For data that must be copied before it is written (a non-contiguous
        view): the copy is never made for an object the cap leaves out.
        """
        if self.size + self.extra + nbytes > self.limit:
            raise CapExceeded

    @property
    def in_memory(self) -> int:
        return len(self._data) if self._data is not None else 0

    def finish(self) -> bytes | None:
        """End writing; the whole pickle as bytes if it stayed in memory, else None."""
        if self._file is not None:
            self._file.flush()
            return None
        data = bytes(self._data or b"")
        self._data = None
        return data

    def chunks(self) -> Iterator[bytes]:
        """The spooled bytes, ``COPY_CHUNK`` at a time (after :meth:`finish`)."""
        assert self._file is not None
        fd = self._file.fileno()
        offset = 0
        while offset < self.size:
            chunk = os.pread(fd, min(COPY_CHUNK, self.size - offset), offset)
            if not chunk:
                raise OSError(f"spool file ended at {offset} of {self.size} bytes")
            offset += len(chunk)
            yield chunk

    def close(self) -> None:
        self._data = None
        if self._file is not None:
            self._file.close()
            self._file = None
