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

import io
import pickle
from collections.abc import Callable, Sequence
from typing import Any

Resolve = Callable[[str], Any]


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: Any, buffers: Sequence[Any], resolve: Resolve) -> None:
        super().__init__(io.BytesIO(data), buffers=buffers)
        self._resolve = resolve

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, str):
            raise pickle.UnpicklingError(f"persistent id {pid!r} is not a piece id")
        return self._resolve(pid)


def loads(data: Any, buffers: Sequence[Any], resolve: Resolve) -> Any:
    """Unpickle one piece's in-band ``data``; ``resolve(pid)`` gives referenced pieces."""
    return _Unpickler(data, buffers, resolve).load()
