"""Reading one field of untrusted JSON: kept when its type is right, else absent and said.

The problems never show a value (it may be a 5,000-digit integer or a lone
surrogate), only its JSON type and the field's path (``frames[3].locals``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .manifest import JsonKey

#: JSON keys nest tuples; deeper than this is not a Dask key (and not worth a recursion).
MAX_KEY_DEPTH = 32
#: At most this many problems are listed; the rest are counted.
MAX_PROBLEMS = 100


def kind(value: object) -> str:
    """The JSON name of a value's type, for a problem's text (never its value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


def entry_path(path: str, key: object) -> str:
    """``pieces['p0']``: a map's entry in a problem's path (a long key is shortened)."""
    if not isinstance(key, str):
        return f"{path}[<{kind(key)}>]"
    shown = key if len(key) <= 40 else key[:37] + "..."
    return f"{path}[{shown!r}]"


class Builder:
    """Reads fields of the raw JSON, recording what had the wrong type."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.dropped = 0

    def problem(self, path: str, value: object, expected: str, ignored: str = "ignored") -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(
                f"manifest field `{path}` is {kind(value)}, not {expected}: {ignored}"
            )
        else:
            self.dropped += 1

    def get(self, obj: Mapping[str, Any], key: str, path: str, test: Any, expected: str) -> Any:
        if key not in obj:
            return None
        value = obj[key]
        if test(value):
            return value
        self.problem(f"{path}{key}", value, expected)
        return None

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, null: bool = False) -> Any:
        if null and key in obj and obj[key] is None:
            return None
        return self.get(obj, key, path, is_str, "a string")

    def integer(self, obj: Mapping[str, Any], key: str, path: str, *, null: bool = False) -> Any:
        if null and key in obj and obj[key] is None:
            return None
        return self.get(obj, key, path, is_int, "an integer")

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> Any:
        return self.get(obj, key, path, is_bool, "a boolean")

    def number(self, obj: Mapping[str, Any], key: str, path: str) -> float | None:
        value = self.get(obj, key, path, is_number, "a finite number")
        return None if value is None else float(value)

    def section(self, obj: Mapping[str, Any], key: str, path: str = "") -> Any:
        return self.get(obj, key, path, is_dict, "an object")

    def array(self, obj: Mapping[str, Any], key: str, path: str = "") -> Any:
        return self.get(obj, key, path, is_list, "a list")

    def objects(
        self, items: Iterable[Any] | None, path: str
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(path, entry)`` for each entry of an array that is an object
        (``error.chain[2]``); any other entry is a problem, skipped."""
        for i, entry in enumerate(items or ()):
            at = f"{path}[{i}]"
            if isinstance(entry, dict):
                yield at, entry
            else:
                self.problem(at, entry, "an object")

    def strings(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        """An array of strings; bad entries are dropped (for text: notes, modules)."""
        items = self.array(obj, key, path)
        if items is None:
            return ()
        out = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                out.append(item)
            else:
                self.problem(f"{path}{key}[{i}]", item, "a string")
        return tuple(out)

    def ids(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        """An array of ids, all or nothing: a shorter list would load the wrong thing."""
        items = self.array(obj, key, path)
        if items is None:
            return None
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.problem(
                    f"{path}{key}[{i}]", item, "a string (an id)", f"`{path}{key}` ignored"
                )
                return None
        return tuple(items)

    def table(
        self, obj: Mapping[str, Any], key: str, path: str, test: Any, expected: str
    ) -> dict[str, Any] | None:
        """An object of ``expected``; bad entries are dropped."""
        items = self.section(obj, key, path)
        if items is None:
            return None
        out = {}
        for name, value in items.items():
            if not isinstance(name, str):
                self.problem(f"{path}{key} (a key)", name, "a string")
            elif test(value):
                out[name] = value
            else:
                self.problem(entry_path(f"{path}{key}", name), value, expected)
        return out

    def key(self, value: object, path: str) -> tuple[bool, JsonKey]:
        """A JSON key (spec 4.6): (valid, value)."""
        stack = [(value, 0)]
        while stack:
            item, depth = stack.pop()
            if isinstance(item, list):
                if depth >= MAX_KEY_DEPTH:
                    self.problem(path, item, f"a key nested at most {MAX_KEY_DEPTH} deep")
                    return False, None
                stack.extend((child, depth + 1) for child in item)
            elif not (item is None or isinstance(item, str | int) or is_number(item)):
                self.problem(path, value, "a key (string, number, boolean, null or list)")
                return False, None
        return True, value


def is_str(value: object) -> bool:
    return isinstance(value, str)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_FLOAT_MAX <= value <= _FLOAT_MAX  # float() of a larger one overflows
    return isinstance(value, float) and value - value == 0.0  # not inf or nan (no `math`: info)


_FLOAT_MAX = sys.float_info.max


def is_dict(value: object) -> bool:
    return isinstance(value, dict)


def is_list(value: object) -> bool:
    return isinstance(value, list)


#: What :func:`is_sha256` accepts, for a problem's text.
SHA256 = "a SHA-256 (64 lowercase hex digits)"
_HEX = frozenset("0123456789abcdef")


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


def is_str_or_null(value: object) -> bool:
    return value is None or isinstance(value, str)
