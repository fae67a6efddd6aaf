"""The process's existing heap set aside from the cyclic collector while a capture runs.

A capture allocates tens of thousands of small objects (a record and a piece
per frame's local), which set off the collector over and over, and each
collection of the oldest generation walks the whole heap of the process: in a
Dask worker that was half the CPU time of a capture 900 frames deep (78 us a
frame, 45 without those walks).

The collector is not disabled: other threads of a worker go on running tasks
during a capture, and their cyclic garbage must still be collected.  Instead
the objects that exist when the capture starts are frozen (``gc.freeze()``:
moved to the permanent generation, an O(1) list splice) and unfrozen when it
ends (``gc.unfreeze()``: back into the oldest generation).  Collections during
the capture walk only the objects made since; garbage that existed before it
is collected after it, at the next collection.

The freeze is held by the failing thread around its wait for the capture,
never longer: an abandoned capture (stuck past its budget) runs on without
it.  Nested and concurrent captures share one freeze.  A process that froze
objects itself (``gc.get_freeze_count()`` above 0, typically before a fork)
is left alone: unfreezing would undo its own freeze.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_frozen = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Freeze the existing heap for the block; the last one out unfreezes it."""
    global _holders, _frozen
    with _lock:
        if _holders == 0:
            _frozen = gc.get_freeze_count() == 0
            if _frozen:
                gc.freeze()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _frozen:
                gc.unfreeze()
                _frozen = False
