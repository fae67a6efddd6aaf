"""Which modules a pickle would import, read from its opcodes without running it."""

from __future__ import annotations

import pickletools

from ._errors import SnapshotFormatError

_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING"}
)
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})


def pickle_imports(data: bytes | bytearray | memoryview) -> set[str]:
    """Return the full module names that ``GLOBAL``/``INST``/``STACK_GLOBAL`` opcodes name.

    Nothing is unpickled.  ``STACK_GLOBAL`` takes its module and name from the
    stack; we track the two most recent string pushes, following the memo, which
    is exactly how pickle (and cloudpickle) emit them.  A hand-crafted pickle can
    compute a module name at run time and so hide it from this scan: the result
    says what a pickle written by pickle or cloudpickle imports; it is no
    security check.
    """
    modules: set[str] = set()
    memo: dict[int, str | None] = {}
    recent: list[str | None] = [None, None]
    memo_count = 0
    try:
        for opcode, arg, _pos in pickletools.genops(
            bytes(data) if isinstance(data, memoryview) else data
        ):
            name = opcode.name
            if name in _STRING_OPS:
                value = arg if isinstance(arg, str) else None
                recent = [recent[1], value]
            elif name == "FRAME":
                # Protocol 4+ may start a new frame between the module and the
                # name strings of a STACK_GLOBAL: framing is not a stack operation.
                continue
            elif name == "MEMOIZE":
                memo[memo_count] = recent[1]
                memo_count += 1
            elif name in _PUT_OPS:
                memo[int(arg)] = recent[1]  # type: ignore[arg-type]
            elif name in _GET_OPS:
                recent = [recent[1], memo.get(int(arg))]  # type: ignore[arg-type]
            elif name in ("GLOBAL", "INST"):  # INST: protocol 0's "import and call"
                module = str(arg).split(" ", 1)[0]
                modules.add(module)
                recent = [recent[1], None]
            elif name == "STACK_GLOBAL":
                if recent[0] is not None:
                    modules.add(recent[0])
                recent = [None, None]
            else:
                recent = [recent[1], None]
    except Exception as exc:  # pickletools raises ValueError and friends on garbage
        raise SnapshotFormatError(f"not a valid pickle stream: {exc}") from exc
    return modules


def top_level(modules: set[str]) -> set[str]:
    """``{"numpy.core.multiarray", "os"}`` -> ``{"numpy", "os"}``."""
    return {m.split(".", 1)[0] for m in modules if m}
