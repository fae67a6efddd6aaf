"""What a stored pickle names, read from its opcodes without loading it.

For tests of our own files only (the writer's output, the golden files): it
follows the opcodes the writer emits, not every pickle a hostile file may hold
(the reader's scan for those is ``snapshot._read.opcodes``).
"""

from __future__ import annotations

import pickletools
from typing import Any

_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING"}
_GETS = {"GET", "BINGET", "LONG_BINGET"}
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_QUIET = {"FRAME", "MEMOIZE", *_PUTS}

PLACEHOLDER = "snapshot._format.Placeholder"


def _walk(data: Any) -> list[tuple[str, Any]]:
    """The opcodes that do something, each global resolved to ``"module.name"``."""
    memo: dict[int, Any] = {}
    recent: list[Any] = []  # what the string and memo-get opcodes pushed, in order
    top: Any = None  # what the last opcode pushed, if a string or a memo get
    out: list[tuple[str, Any]] = []
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name == "MEMOIZE":
            memo[len(memo)] = top
        elif name in _PUTS:
            memo[arg] = top
        pushed: Any = None
        if name in _STRINGS:
            pushed = arg
        elif name in _GETS:
            pushed = memo.get(arg)
        if name in _STRINGS or name in _GETS:
            recent.append(pushed)
        if name == "STACK_GLOBAL":
            module, qualname = recent[-2:]
            out.append((name, f"{module}.{qualname}"))
        elif name == "GLOBAL":
            module, qualname = arg.split(" ", 1)
            out.append((name, f"{module}.{qualname}"))
        elif name not in _QUIET:
            out.append((name, arg))
        if name not in _QUIET:
            top = pushed
    return out


def pickled_globals(data: Any) -> set[str]:
    """Every ``module.name`` the pickle imports (``GLOBAL`` and ``STACK_GLOBAL``)."""
    return {arg for name, arg in _walk(data) if name in ("GLOBAL", "STACK_GLOBAL")}


def placeholder_forms(data: Any) -> list[str]:
    """How each :class:`snapshot.Placeholder` in the pickle is built (spec 5.3).

    ``"call"``: ``Placeholder(type, repr, reason, status)`` (a live resource);
    ``"tuple state"`` / ``"dict state"``: a captured one, ``NEWOBJ`` then
    ``BUILD`` of its fields as a tuple (records) or a dict (the dataclass before).
    """
    ops = _walk(data)
    forms = []
    for i, (name, arg) in enumerate(ops):
        if name not in ("GLOBAL", "STACK_GLOBAL") or arg != PLACEHOLDER:
            continue
        if [n for n, _ in ops[i + 1 : i + 3]] == ["EMPTY_TUPLE", "NEWOBJ"]:
            build = next(j for j in range(i + 3, len(ops)) if ops[j][0] == "BUILD")
            state = ops[build - 1][0]
            forms.append("tuple state" if state == "TUPLE" else "dict state")
            assert state in ("TUPLE", "SETITEMS", "SETITEM", "EMPTY_DICT"), state
        else:
            assert any(n == "REDUCE" for n, _ in ops[i + 1 :]), ops[i:]
            forms.append("call")
    return forms
