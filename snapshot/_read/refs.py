"""References between pieces (format 1.1): one object stored once, loaded once.

A stored piece's pickle MAY carry pickle *persistent ids*; each is the pid
(a ``str``) of another piece of the same snapshot.  The writer emits them from
``Pickler.persistent_id`` when it meets an object that is (or becomes) a piece
of its own; a reader resolves them through ``resolve(pid)``, which loads that
piece (cached), so ``x is y`` holds after loading where it held on the worker.

This module is the reading side of the rule (the writing side is
``ReferencingPickler.persistent_id`` in ``snapshot/_write/pickler.py``); the
reader's :class:`Snapshot` passes its own ``resolve``.
"""

from __future__ import annotations

import gc
import pickle
from collections.abc import Callable, Sequence
from typing import Any

Resolve = Callable[[str], Any]


class _Reader:
    """A file over the member's buffer for the unpickler, without copying it.

    ``io.BytesIO`` copies any buffer but ``bytes``: a second copy of the whole
    pickle (the members are ``bytearray`` or anonymous ``mmap``), as large as the
    piece, before the first object is built.  The C unpickler reads whole frames
    (64 KiB) and large ``bytes`` payloads (``readinto``) through these methods.
    """

    __slots__ = ("_data", "_pos", "_view")

    def __init__(self, data: Any) -> None:
        self._data = data  # bytes, bytearray or mmap: each has find(sub, start)
        self._view = memoryview(data).cast("B")
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._pos = max(end, start)
        return bytes(self._view[start:end])

    def readinto(self, buffer: Any) -> int:
        start = self._pos
        target = memoryview(buffer).cast("B")
        n = max(0, min(len(target), len(self._view) - start))
        target[:n] = self._view[start : start + n]
        self._pos = start + n
        return n

    def readline(self, size: int = -1) -> bytes:
        start = self._pos
        end = self._data.find(b"\n", start)
        end = len(self._view) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, start + size)
        self._pos = max(end, start)
        return bytes(self._view[start:end])


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: Any, buffers: Sequence[Any], resolve: Resolve) -> None:
        super().__init__(_Reader(data), buffers=buffers)
        self._resolve = resolve

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, str):
            raise pickle.UnpicklingError(f"persistent id {pid!r} is not a piece id")
        return self._resolve(pid)


def loads(data: Any, buffers: Sequence[Any], resolve: Resolve) -> Any:
    """Unpickle one piece's in-band ``data``; ``resolve(pid)`` gives referenced pieces.

    The cyclic garbage collector is paused while it runs: building millions of
    containers (a bag partition of dicts) otherwise sets off thousands of
    collections, the full ones walking every object built so far and every
    object the replaying process already holds (a third of the load's time for
    2 million dicts).  Unpickling makes little garbage; what cycles it makes are
    collected once the collector is back (as it was: a nested load leaves it off).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _Unpickler(data, buffers, resolve).load()
    finally:
        if paused:
            gc.enable()
