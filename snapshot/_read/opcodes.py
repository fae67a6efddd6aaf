"""Which modules a pickle would import, read from its opcodes without running it.

Unpickling imports a module only through ``find_class``, which three opcodes
reach: ``GLOBAL`` and ``INST`` (module and name inline, protocol 0-3) and
``STACK_GLOBAL`` (module and name from the stack, protocol 4+).  The scan
walks the opcodes as the C unpickler does, skipping payloads by their length,
and follows the stack and the memo as far as they hold strings, so that a
``STACK_GLOBAL`` whose module string was pushed, memoized, fetched, duplicated
or moved around by ``POP``/``MARK`` is still named.  Where it cannot know the
module (a string computed at run time, a copyreg extension code, a pickle it
lost track of), it says so instead of guessing: :attr:`PickleScan.unknown`.

Work is bounded: at most ``max_ops`` opcodes; the result says how far it got.
The safety argument is in specs/snapshot-format.md, section 11.
"""

from __future__ import annotations

import sys

from .._errors import SnapshotFormatError
from .._record import Record
from .opcode_table import (
    ARG,
    BINSTRING,
    DUP,
    EXT,
    GET,
    GLOBAL,
    INST,
    KIND,
    LINE_GET,
    LINE_PUT,
    LONG4,
    MARK,
    MEMOIZE,
    NOTHING,
    POP,
    POP_MARK,
    POP_ONE,
    POP_PUSH,
    POP_TO_MARK,
    POP_TO_MARK_PUSH,
    PROTO,
    PUSH,
    PUSH_LEN,
    PUT,
    STACK_GLOBAL,
    STOP,
    STR_LEN,
    STRING,
    UNICODE,
)
from .pickle_names import decode_name, imported_module, string_literal

#: Strings are tracked (on the stack and in the memo) up to this total cost in bytes;
#: past it, further memoized strings count as unknown (and a module taken from one
#: is reported as unknown, never guessed).
MAX_TRACKED_BYTES = 16 * 2**20
#: A longer string is tracked as unknown (no module name is this long): this bounds
#: what the strings on the stack hold to _MAX_DEPTH times it.
_MAX_NAME = 256
#: Opcodes between checks of the stack's depth, and the depth that makes the scan
#: stop following values (it still reads every opcode and every inline module).
_CHUNK = 1 << 16
_MAX_NOTES = 10
_MAX_MODULES = 10_000
_MAX_DEPTH = 1 << 16
_UNKNOWN = b""  # a str whose value the scan does not know (never a real module name)


class PickleScan(Record):
    """What one pickle would import.

    ``modules`` are full module names.  ``unknown`` says, for each import whose
    module the scan could not know, why (empty: every import is named).
    ``end`` is how far the scan got of ``size`` bytes; ``complete`` is false when
    it stopped on its budget (``max_ops``) or on the end of a partial buffer
    before the pickle's ``STOP``.  ``invalid`` is the reason unpickling would
    fail, if it would (the scan goes no further than unpickling would).
    """

    modules: frozenset[str]
    unknown: tuple[str, ...]
    end: int
    size: int
    complete: bool
    invalid: str | None = None
    ops: int = 0  # opcodes walked
    stopped: bool = False  # reached STOP


def scan_pickle(data: bytes | bytearray, *, max_ops: int | None = None) -> PickleScan:
    """Scan one pickle stream for the modules its unpickling would import (see module doc)."""
    if isinstance(data, memoryview):
        data = bytes(data)
    n = len(data)
    kinds, args = KIND, ARG
    stack: list[bytes | None] = []  # a tracked str's UTF-8 bytes, or None for anything else
    marks: list[int] = []
    memo: dict[int, bytes] = {}  # index -> a tracked str (only strings are kept)
    memo_len = 0  # what MEMOIZE uses as the next index (the C unpickler's memo_len)
    used_put = used_memoize = False
    tracked = 0
    modules: set[str] = set()
    unknown: list[str] = []
    lost: str | None = None  # once set, stack values are no longer known
    proto = 0
    pos = 0
    invalid: str | None = None
    stopped = False
    left = max_ops if max_ops is not None else sys.maxsize
    ops = 0
    finished = False
    while left > 0 and not finished:
        chunk = min(left, _CHUNK)
        for step in range(chunk):  # noqa: B007 (read after the loop)
            if pos >= n:
                invalid = "the pickle ends without STOP"
                break
            op = data[pos]
            kind = kinds[op]
            arg = args[op]
            pos += 1
            if kind == PUSH:
                pos += arg
                stack.append(None)
            elif kind == MEMOIZE:
                used_memoize = True
                if used_put:
                    lost = lost or f"MEMOIZE after PUT at byte {pos - 1}"
                value = stack[-1] if stack else None
                if value is not None and tracked < MAX_TRACKED_BYTES:
                    memo[memo_len] = value
                    tracked += len(value) + 100
                elif value is not None:
                    memo[memo_len] = _UNKNOWN
                else:
                    memo.pop(memo_len, None)
                memo_len += 1
            elif kind == STR_LEN:
                if arg == 1:
                    if pos >= n:
                        invalid = "truncated"
                        break
                    size = data[pos]
                elif arg == 4:
                    if pos + 4 > n:
                        invalid = "truncated"
                        break
                    size = int.from_bytes(data[pos : pos + 4], "little")
                else:
                    if pos + 8 > n:
                        invalid = "truncated"
                        break
                    size = int.from_bytes(data[pos : pos + 8], "little")
                pos += arg
                if pos + size > n:
                    invalid = "truncated"
                    break
                stack.append(bytes(data[pos : pos + size]) if size <= _MAX_NAME else _UNKNOWN)
                pos += size
            elif kind == GET:
                if pos + arg > n:
                    invalid = "truncated"
                    break
                index = data[pos] if arg == 1 else int.from_bytes(data[pos : pos + 4], "little")
                pos += arg
                stack.append(memo.get(index))
            elif kind == MARK:
                marks.append(len(stack))
            elif kind == POP_TO_MARK or kind == POP_TO_MARK_PUSH:
                if not marks:
                    lost = lost or f"no MARK for the opcode at byte {pos - 1}"
                else:
                    del stack[marks.pop() :]
                if kind == POP_TO_MARK_PUSH:
                    stack.append(None)
            elif kind == PUSH_LEN or kind == LONG4:
                if pos + arg > n:
                    invalid = "truncated"
                    break
                if arg == 1:
                    size = data[pos]
                elif arg == 4:
                    size = int.from_bytes(data[pos : pos + 4], "little", signed=kind == LONG4)
                else:
                    size = int.from_bytes(data[pos : pos + 8], "little")
                if size < 0:
                    invalid = f"negative length at byte {pos - 1}"
                    break
                pos += arg + size
                if pos > n:
                    invalid = "truncated"
                    break
                stack.append(None)
            elif kind == POP_PUSH or kind == POP:
                if len(stack) - arg < (marks[-1] if marks else 0):
                    lost = lost or f"stack underflow at byte {pos - 1}"
                    del stack[max(0, len(stack) - arg) :]
                else:
                    del stack[len(stack) - arg :]
                if kind == POP_PUSH:
                    stack.append(None)
            elif kind == STACK_GLOBAL:
                name = stack.pop() if stack else None
                module = stack.pop() if stack else None
                stack.append(None)
                where = f"STACK_GLOBAL at byte {pos - 1}"
                if lost is not None:
                    _note(unknown, f"{where}: the scan lost track of the stack ({lost})")
                elif not module:
                    _note(
                        unknown, f"{where}: its module name is not a string the pickle spells out"
                    )
                else:
                    found = decode_name(module)
                    if found is None:
                        invalid = f"a module name that is not UTF-8 at byte {pos - 1}"
                        break
                    _add(
                        modules,
                        unknown,
                        imported_module(found, decode_name(name or b"") or "", proto),
                    )
            elif kind == NOTHING:
                pos += arg
            elif kind == PUT:
                if pos + arg > n:
                    invalid = "truncated"
                    break
                index = data[pos] if arg == 1 else int.from_bytes(data[pos : pos + 4], "little")
                pos += arg
                used_put = True
                if used_memoize:
                    lost = lost or f"PUT after MEMOIZE at byte {pos - 1 - arg}"
                _put(memo, index, stack[-1] if stack else None)
            elif kind == POP_ONE:
                if marks and marks[-1] >= len(stack):
                    marks.pop()
                elif stack:
                    stack.pop()
                else:
                    lost = lost or f"stack underflow at byte {pos - 1}"
            elif kind == POP_MARK:
                if marks:
                    del stack[marks.pop() :]
                else:
                    lost = lost or f"no MARK for POP_MARK at byte {pos - 1}"
            elif kind == DUP:
                stack.append(stack[-1] if stack else None)
            elif kind == STOP:
                stopped = True
                break
            elif kind == PROTO:
                if pos >= n:
                    invalid = "truncated"
                    break
                proto = data[pos]
                pos += 1
            elif kind == BINSTRING:
                if pos + 4 > n:
                    invalid = "truncated"
                    break
                size = int.from_bytes(data[pos : pos + 4], "little", signed=True)
                pos += 4
                if size < 0 or pos + size > n:
                    invalid = "truncated"
                    break
                stack.append(bytes(data[pos : pos + size]) if size <= _MAX_NAME else _UNKNOWN)
                pos += size
            elif kind == EXT:
                pos += arg
                stack.append(None)
                _note(
                    unknown,
                    f"EXT{arg} at byte {pos - 1 - arg}: a copyreg extension code, whose module "
                    "depends on the reading machine's registry",
                )
            elif kind < 0:
                invalid = f"unknown opcode {op:#04x} at byte {pos - 1}"
                break
            else:
                # Protocol 0 opcodes with arguments ending in a newline.
                end = data.find(b"\n", pos)
                if end < 0:
                    invalid = "truncated"
                    break
                line = bytes(data[pos:end])
                pos = end + 1
                if kind == GLOBAL or kind == INST:
                    end = data.find(b"\n", pos)
                    if end < 0:
                        invalid = "truncated"
                        break
                    found = decode_name(line)
                    global_name = decode_name(bytes(data[pos:end]))
                    pos = end + 1
                    if found is None or global_name is None:
                        invalid = f"a module name that is not UTF-8 at byte {pos}"
                        break
                    _add(modules, unknown, imported_module(found, global_name, proto))
                    if kind == INST:
                        if marks:
                            del stack[marks.pop() :]
                        else:
                            lost = lost or f"no MARK for INST at byte {pos}"
                    stack.append(None)
                elif kind == STRING:
                    stack.append(string_literal(line))
                elif kind == UNICODE:
                    try:
                        stack.append(
                            line.decode("raw-unicode-escape").encode("utf-8", "surrogatepass")
                        )
                    except UnicodeError:
                        invalid = f"a bad UNICODE argument at byte {pos}"
                        break
                elif kind == LINE_PUT or kind == LINE_GET:
                    if not line.isdigit() or not line.isascii() or len(line) > 18:
                        lost = lost or f"a memo index the scan does not read at byte {pos}"
                        if kind == LINE_GET:
                            stack.append(None)
                        continue
                    if kind == LINE_GET:
                        stack.append(memo.get(int(line)))
                    else:
                        used_put = True
                        if used_memoize:
                            lost = lost or f"PUT after MEMOIZE at byte {pos}"
                        _put(memo, int(line), stack[-1] if stack else None)
                else:  # INT, LONG, FLOAT, PERSID: a value of no interest
                    stack.append(None)
        else:
            ops += chunk
            left -= chunk
            # Between chunks: the stack and the marks stay small, whatever the pickle.
            if len(stack) + len(marks) > _MAX_DEPTH:
                lost = lost or f"a stack deeper than {_MAX_DEPTH} at byte {pos}"
                stack.clear()
                marks.clear()
            continue
        ops += step + 1
        finished = True
    if not finished:
        return PickleScan(frozenset(modules), tuple(unknown), pos, n, False, None, ops)
    return PickleScan(
        frozenset(modules),
        tuple(unknown),
        pos,
        n,
        complete=stopped or invalid is not None,
        invalid=None if stopped else invalid,
        ops=ops,
        stopped=stopped,
    )


def _note(unknown: list[str], text: str) -> None:
    if len(unknown) < _MAX_NOTES:
        unknown.append(text)


def _add(modules: set[str], unknown: list[str], module: str) -> None:
    if len(modules) < _MAX_MODULES or module in modules:
        modules.add(module)
    else:
        _note(unknown, f"more than {_MAX_MODULES} distinct modules: the scan lists no more")


def _put(memo: dict[int, bytes], index: int, value: bytes | None) -> None:
    if value is None:
        memo.pop(index, None)
    else:
        memo[index] = value


def pickle_imports(data: bytes | bytearray | memoryview) -> set[str]:
    """The full module names a pickle's unpickling imports, read from its opcodes.

    Strict, for the writer and for tests: a pickle that is not valid, or whose
    imports the scan cannot all name, is a :class:`SnapshotFormatError`.
    """
    scan = scan_pickle(data)  # type: ignore[arg-type]
    if scan.invalid is not None:
        raise SnapshotFormatError(f"not a valid pickle stream: {scan.invalid}")
    if scan.unknown:
        raise SnapshotFormatError(f"the pickle hides what it imports: {scan.unknown[0]}")
    return set(scan.modules)
