"""The small snapshots many tests start from.

A module of its own, imported by name: every ``conftest.py`` of the suite is a
module named ``conftest``, so ``from conftest import ...`` picks whichever was
imported first.
"""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np

import snapshot


def build_small(path: Path, *, key: bytes | None = None, frames: bool = True) -> Path:
    """A snapshot of a failed ``operator.truediv(7, 0)`` with one numpy input.

    With ``frames`` (and so this file as a source member) it is about 4 KB;
    without, about 1 KB, for tests that damage every byte.
    """
    builder = snapshot.SnapshotBuilder()
    if frames:
        try:
            operator.truediv(7, 0)
        except ZeroDivisionError as exc:
            builder.capture_exception(exc)
    builder.set_call(operator.truediv, [7, 0], {"round_to": 3})
    builder.add_inputs({("x", 0): np.arange(12, dtype=np.int32), "y": 0})
    return builder.write(path, key=key)
