"""Text of any object that never raises and never runs away: the one safe repr and str.

``repr()`` of a 64 MiB ``bytes`` is a 200 MB string, and :mod:`reprlib` sorts a
whole dict or set before it shows six entries of it.  Here every builtin
sequence is sliced *before* its repr is taken and containers show their first
entries in their own order, so the cost of a repr does not grow with the
object.  Nothing here raises for a hostile object (a broken ``__repr__`` or
``__str__`` is named instead).  The writer uses these for piece records and
exception messages; replay for what it prints, escaped for a terminal after.
"""

from __future__ import annotations

import reprlib
from itertools import islice
from typing import Any

_BINARY = (bytes, bytearray)


class _Shortener(reprlib.Repr):
    """reprlib without its sorting, and with a bounded repr for binary data."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxstring = self.maxother = self.maxlong = limit
        self.limit = limit

    def repr1(self, x: Any, level: int) -> str:
        # Subclasses of str and bytes have no repr_<name> method in reprlib,
        # which then calls repr() on the whole object: slice them first.
        if isinstance(x, str) and type(x) is not str:
            return self._sliced(str(x[: self.limit + 1]), type(x).__name__)
        if isinstance(x, _BINARY):
            return self._sliced(bytes(x[: self.limit + 1]), type(x).__name__)
        if isinstance(x, memoryview):
            return f"<memoryview of {x.nbytes} bytes, format {x.format!r}>"
        return super().repr1(x, level)

    def _sliced(self, head: str | bytes, name: str) -> str:
        text = repr(head)
        if name not in ("str", "bytes"):
            text = f"{name}({text})"
        return text

    def _first(self, x: Any, limit: int, level: int, left: str, right: str) -> str:
        if not x:
            return left + right
        if level <= 0:
            return left + "..." + right
        shown = [self.repr1(item, level - 1) for item in islice(x, limit)]
        if len(x) > limit:
            shown.append("...")
        return left + ", ".join(shown) + right

    def repr_set(self, x: Any, level: int) -> str:
        return self._first(x, self.maxset, level, "{", "}") if x else "set()"

    def repr_frozenset(self, x: Any, level: int) -> str:
        return "frozenset(" + self._first(x, self.maxfrozenset, level, "{", "}") + ")"

    def repr_dict(self, x: Any, level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        shown = [
            f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
            for k, v in islice(x.items(), self.maxdict)
        ]
        if len(x) > self.maxdict:
            shown.append("...")
        return "{" + ", ".join(shown) + "}"


_SHORTENERS: dict[int, _Shortener] = {}
_PLAIN = frozenset({int, float, bool, type(None), complex})


def safe_repr(obj: object, limit: int) -> str:
    """``repr`` that never raises, never runs away, and costs the same for any size."""
    kind = type(obj)
    if kind in _PLAIN or (kind is str and len(obj) < limit):  # type: ignore[arg-type]
        try:
            text = repr(obj)
        except ValueError:  # an int past sys.get_int_max_str_digits()
            return f"<int of {obj.bit_length()} bits>"  # type: ignore[attr-defined]
        return text if len(text) <= limit else text[: limit - 3] + "..."
    shortener = _SHORTENERS.get(limit)
    if shortener is None:
        shortener = _SHORTENERS[limit] = _Shortener(limit)
    try:
        text = shortener.repr(obj)
    except BaseException as exc:  # a broken __repr__ must not break the capture
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(obj: object) -> str:
    """``module.qualname`` of the object's type."""
    kind = type(obj)
    name = _TYPE_NAMES.get(kind)
    if name is None:
        module = getattr(kind, "__module__", None) or "?"
        name = f"{module}.{getattr(kind, '__qualname__', kind.__name__)}"
        if kind in _PLAIN or kind is str or kind is bytes:  # never renamed: kept
            _TYPE_NAMES[kind] = name
    return name


_TYPE_NAMES: dict[type, str] = {}


def safe_str(obj: object, limit: int = 100_000) -> str:
    """``str`` that never raises, cut at ``limit`` characters."""
    try:
        text = str(obj)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = f"<str() failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
