"""A fingerprint of a code object that survives pickling and recompiling.

Replay finds the source of a frame by compiling candidate files and accepting a
definition only when its code object hashes the same as the one that ran: it
matches by code, never by line numbers.  The writer can record the hash of
each frame's code (``frames[i].code_sha256``); replay computes it for the
functions it unpickles.

The fingerprint covers the name, qualified name, argument counts, bytecode,
constants (nested code objects included), names, local, free and cell
variable names, the line table and the exception table.  Nested code objects
record their first line relative to the outermost one, so one cell found at
another offset of a file (an nbconvert export) hashes the same.  It leaves out
the file name (cloudpickle rewrites it to ``<dynamic-code>``), the flags and
the outermost first line, which frames record on their own.  Bytecode differs
between Python versions: compare hashes made by the same ``X.Y`` only.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

try:  # CPython's own SHA-256: the same digest, without loading OpenSSL (hashlib costs
    # ``info``, which checks the traceback's sources by code hash, about a tenth of its run)
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover - other versions and interpreters
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        from hashlib import sha256

__all__ = ["CompiledSource", "code_fingerprint", "code_objects", "code_sha256", "same_bytecode"]

_DOMAIN = b"dask-replay code 1\0"


def same_bytecode(python: object) -> bool:
    """Whether code that ran under Python ``python`` (``"X.Y.Z"``, as a manifest's
    ``environment.python.version`` records it) compiles to this interpreter's bytecode,
    so that code hashes compare: the same ``X.Y``.  Unknown (no version, not a string)
    is False: what cannot be compared is not verified."""
    if not isinstance(python, str):
        return False
    return python.split(".")[:2] == [str(v) for v in sys.version_info[:2]]


def code_sha256(code: types.CodeType) -> str:
    """The hex SHA-256 of :func:`code_fingerprint` (the manifest's ``code_sha256``)."""
    return sha256(_DOMAIN + code_fingerprint(code)).hexdigest()


def code_fingerprint(code: types.CodeType) -> bytes:
    """A canonical byte string: equal for code objects that compile from the same text."""
    parts: list[bytes] = []
    _code(code, code.co_firstlineno, parts)
    return b"".join(parts)


def _item(tag: bytes, data: bytes, parts: list[bytes]) -> None:
    parts.append(tag + len(data).to_bytes(8, "little") + data)


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _code(code: types.CodeType, base: int, parts: list[bytes]) -> None:
    _item(b"C", b"", parts)
    _item(b"n", _text(code.co_name), parts)
    _item(b"q", _text(getattr(code, "co_qualname", code.co_name)), parts)
    counts = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount)
    _item(b"a", repr(counts).encode(), parts)
    _item(b"l", str(code.co_firstlineno - base).encode(), parts)
    _item(b"c", code.co_code, parts)
    for tag, names in (
        (b"N", code.co_names),
        (b"V", code.co_varnames),
        (b"F", code.co_freevars),
        (b"L", code.co_cellvars),
    ):
        _item(tag, b"\0".join(_text(n) for n in names), parts)
    _item(b"t", code.co_linetable, parts)
    _item(b"x", getattr(code, "co_exceptiontable", b""), parts)
    _item(b"K", str(len(code.co_consts)).encode(), parts)
    for const in code.co_consts:
        _const(const, base, parts)


def _const(value: object, base: int, parts: list[bytes]) -> None:
    # Constants nest only as deep as the source does (tuples, frozensets, code).
    if isinstance(value, types.CodeType):
        _code(value, base, parts)
    elif isinstance(value, tuple):
        _item(b"T", str(len(value)).encode(), parts)
        for item in value:
            _const(item, base, parts)
    elif isinstance(value, frozenset):
        encoded = []
        for item in value:
            sub: list[bytes] = []
            _const(item, base, sub)
            encoded.append(b"".join(sub))
        _item(b"S", b"".join(sorted(encoded)), parts)
    elif value is None or value is Ellipsis or isinstance(value, bool):
        _item(b"k", repr(value).encode(), parts)
    elif isinstance(value, int):
        _item(b"i", hex(value).encode(), parts)  # hex: no digit limit
    elif isinstance(value, float):
        _item(b"f", value.hex().encode(), parts)
    elif isinstance(value, complex):
        _item(b"j", f"{value.real.hex()},{value.imag.hex()}".encode(), parts)
    elif isinstance(value, str):
        _item(b"s", _text(value), parts)
    elif isinstance(value, bytes):
        _item(b"b", value, parts)
    else:
        _item(b"o", _text(f"{type(value).__qualname__}:{value!r}"), parts)


def code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and every code object nested in its constants."""
    stack = [code]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))


class CompiledSource:
    """A source text compiled (never run), and its code objects: by name and hash, and the
    lines each runs.

    The one check that a text is the source of code that ran: a definition is
    that code when its :func:`code_sha256` equals the recorded hash and it starts
    at the recorded first line (:meth:`defines`, :meth:`first_lines`); without a
    hash (another Python's bytecode, an old file), the text must at least define
    the function at its first line and run the frame's line in it (:meth:`runs`).
    A text that does not compile here has no code objects (``compiles`` is False).
    A code object is hashed when a question needs it, once.
    """

    def __init__(self, text: str, filename: str) -> None:
        self._codes: dict[str, list[types.CodeType]] = {}
        self._hashes: dict[int, str] = {}  # id(code) -> code_sha256(code): codes stay alive
        try:
            module = compile(text, filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            self.compiles = False
            return
        self.compiles = True
        for code in code_objects(module):
            self._codes.setdefault(code.co_name, []).append(code)

    def names(self) -> set[str]:
        return set(self._codes)

    def first_lines(self, name: str, sha256: str) -> list[int]:
        """The first lines at which this text defines code named ``name`` hashing ``sha256``."""
        return [c.co_firstlineno for c in self._codes.get(name, ()) if self._sha(c) == sha256]

    def defines(self, name: str, first: int, sha256: str) -> bool:
        """Whether this text defines code named ``name`` at line ``first`` hashing ``sha256``
        (only the code objects at that line are hashed)."""
        return any(
            c.co_firstlineno == first and self._sha(c) == sha256 for c in self._codes.get(name, ())
        )

    def runs(self, name: str, first: int | None, lineno: int) -> bool:
        """Whether a function ``name`` defined at line ``first`` (any, if None) runs ``lineno``."""
        return any(
            (first is None or code.co_firstlineno == first)
            and any(line == lineno for _, _, line in code.co_lines())
            for code in self._codes.get(name, ())
        )

    def _sha(self, code: types.CodeType) -> str:
        sha = self._hashes.get(id(code))
        if sha is None:
            sha = self._hashes[id(code)] = code_sha256(code)
        return sha
