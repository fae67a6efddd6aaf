"""The cyclic garbage collector paused while a capture runs.

A capture allocates tens of thousands of small objects (a record and a piece
per frame's local), which set off the collector over and over, and each
collection of the oldest generation walks the whole heap of the process: in a
Dask worker that was half the CPU time of a capture 900 frames deep (78 us a
frame, 45 without the collections).  The capture's objects are freed by
reference counting when it ends, so pausing the collector loses nothing.

The pause is held by the failing thread around its wait for the capture, never
longer: an abandoned capture (stuck past its budget) runs on without it.
Nested and concurrent captures share one pause; a collector the process had
disabled stays disabled.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; the last one out restores it."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
