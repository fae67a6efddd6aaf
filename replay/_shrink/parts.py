"""What can be shrunk in a call's inputs, and how a value is rebuilt from a subset.

A *part* is one shrinkable value inside ``(args, kwargs)``, reached by a path
of steps (``("arg", 0)``, ``("item", 3)``, ``("key", 1)``), with a kind: the
rows of a pandas DataFrame or Series, the first axis of a numpy array, the
items of a list, tuple, dict or set, the lines, then the characters, of a str
or bytes.  :func:`take` builds the value holding only the chosen units;
:func:`replace` puts a value back at its path.  Nothing here runs the call.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Part",
    "children",
    "describe_path",
    "find_parts",
    "get",
    "kinds",
    "replace",
    "size",
    "take",
]

Step = tuple[str, Any]
Path = tuple[Step, ...]


@dataclass(frozen=True)
class Part:
    path: Path
    kind: str  # rows, items, lines, chars

    def label(self) -> str:
        return f"{describe_path(self.path)} ({self.kind})"


def describe_path(path: Path) -> str:
    text = ""
    for step, value in path:
        if step == "arg":
            text += f"args[{value}]"
        elif step == "kwarg":
            text += f"kwargs[{value!r}]"
        else:
            text += f"[{value}]"
    return text


def kinds(value: Any) -> list[str]:
    kind = type(value)
    if kind in (list, tuple, dict, set, frozenset):
        return ["items"]
    if kind in (str, bytes):
        return ["lines", "chars"]
    module = getattr(kind, "__module__", "") or ""
    if module.startswith("pandas") and kind.__name__ in ("DataFrame", "Series"):
        return ["rows"]
    if module == "numpy" and kind.__name__ == "ndarray" and getattr(value, "ndim", 0) >= 1:
        return ["rows"]
    return []


def size(value: Any, kind: str) -> int:
    if kind == "lines":
        return len(value.splitlines(keepends=True))
    return len(value)


def find_parts(args: tuple[Any, ...], kwargs: dict[str, Any], path: Path = ()) -> Iterator[Part]:
    """The shrinkable parts of the call, outermost first (their items after them)."""
    roots: list[tuple[Step, Any]] = [(("arg", i), v) for i, v in enumerate(args)]
    roots += [(("kwarg", k), v) for k, v in kwargs.items()]
    for step, value in roots:
        yield from parts_of(value, (*path, step))


def parts_of(value: Any, path: Path, depth: int = 0) -> Iterator[Part]:
    if depth > 20:
        return
    for kind in kinds(value):
        yield Part(path, kind)
    for step, inner in children(value):
        yield from parts_of(inner, (*path, step), depth + 1)


def children(value: Any) -> list[tuple[Step, Any]]:
    """The values inside a container that may be shrunk in their turn."""
    kind = type(value)
    if kind in (list, tuple):
        return [(("item", i), v) for i, v in enumerate(value) if kinds(v) or children(v)]
    if kind is dict:
        return [(("value", k), v) for k, v in value.items() if kinds(v) or children(v)]
    return []


def get(root: tuple[tuple[Any, ...], dict[str, Any]], path: Path) -> Any:
    args, kwargs = root
    value: Any = None
    for index, (step, key) in enumerate(path):
        if index == 0:
            value = args[key] if step == "arg" else kwargs[key]
        else:
            value = value[key]
    return value


def replace(
    root: tuple[tuple[Any, ...], dict[str, Any]], path: Path, new: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``root`` with the value at ``path`` replaced by ``new`` (containers copied, not changed)."""
    args, kwargs = root
    step, key = path[0]
    if step == "arg":
        current = args[key]
        args = (*args[:key], _put(current, path[1:], new), *args[key + 1 :])
    else:
        kwargs = {**kwargs, key: _put(kwargs[key], path[1:], new)}
    return args, kwargs


def _put(container: Any, rest: Path, new: Any) -> Any:
    if not rest:
        return new
    (_, key), tail = rest[0], rest[1:]
    if type(container) is dict:
        return {**container, key: _put(container[key], tail, new)}
    items = list(container)
    items[key] = _put(items[key], tail, new)
    return type(container)(items) if type(container) is tuple else items


def take(value: Any, kind: str, keep: Any) -> Any:
    """``value`` holding only the units at the (sorted) positions ``keep``."""
    if kind == "rows":
        if hasattr(value, "take") and hasattr(value, "iloc"):  # pandas
            return value.take(keep)
        return value[keep]
    positions = keep.tolist() if hasattr(keep, "tolist") else list(keep)
    kind_of = type(value)
    if kind == "items":
        if kind_of is dict:
            keys = list(value)
            return {keys[i]: value[keys[i]] for i in positions}
        items = list(value)
        if kind_of in (set, frozenset):
            items = _ordered(value)
        chosen = [items[i] for i in positions]
        return chosen if kind_of is list else kind_of(chosen)
    if kind == "lines":
        lines = value.splitlines(keepends=True)
        return value[:0].join(lines[i] for i in positions)
    if kind_of is bytes:
        return bytes(value[i] for i in positions)
    return "".join(value[i] for i in positions)


def _ordered(value: Any) -> list[Any]:
    try:
        return sorted(value)
    except TypeError:
        return list(value)


def numpy_or_none() -> Any:
    return sys.modules.get("numpy")
