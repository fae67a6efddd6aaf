"""Out-of-band buffers: views of live memory, known by where that memory is.

A buffer's identity is the address and size of the memory it exports, read
through CPython's buffer protocol (``PyObject_GetBuffer``): the object that
exports it is no identity, since pyarrow makes a new wrapper on every pickle
and two slices of one ``bytes`` share their owner but not their memory.  The
view is kept until written, which keeps the memory (and so the address) alive.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass
class Buffer:
    """An out-of-band buffer, kept as a view of the live object until written."""

    bid: str
    view: memoryview
    owner: Any  # keeps the exporting object alive while the view is used

    @property
    def nbytes(self) -> int:
        return self.view.nbytes


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer`` (stable since 3.3): enough to read the exported address."""

    _fields_: ClassVar[list[tuple[str, Any]]] = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]


def address_of(view: memoryview) -> int | None:
    """The address of the memory ``view`` exports: the identity of a buffer.

    Not the exporting object: pyarrow makes a new wrapper on every pickle, and
    two slices of one ``bytes`` share their owner but not their memory.
    """
    buffer = _PyBuffer()
    try:
        if _get_buffer(view, ctypes.byref(buffer), 0) != 0:
            return None
    except Exception:
        return None
    try:
        return buffer.buf
    finally:
        _release_buffer(ctypes.byref(buffer))
