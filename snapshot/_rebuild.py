"""Functions that stored pickles call when they load: frozen, their names are part of the format.

The writer stores large ``bytes``, ``bytearray`` and ``memoryview`` objects
out-of-band; ``bytes`` and ``bytearray`` come back through their own type
(``bytes(buffer)``), a ``memoryview`` through :func:`memoryview_from`, which
gives back its format, shape and read-only flag.  Imports nothing heavy: a
reader loads this module when it unpickles such a piece.  Listed in
``_format.FROZEN_NAMES``: never move or rename what is here.
"""

from __future__ import annotations

from typing import Any


def memoryview_from(buffer: Any, fmt: str, shape: tuple[int, ...], readonly: bool) -> memoryview:
    """A memoryview over ``buffer`` with the format, shape and mutability it had."""
    view = memoryview(buffer)
    if view.readonly and not readonly:  # a copy stored in-band (not contiguous): make it writable
        view = memoryview(bytearray(view))
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    if fmt != "B" or len(shape) != 1:
        view = view.cast(fmt, shape)  # type: ignore[call-overload]
    return view.toreadonly() if readonly else view
