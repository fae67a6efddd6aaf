"""The opcodes of the pickle virtual machine, as the scan of :mod:`.opcodes` sees them.

Each opcode byte maps to what it does to the stack (its *kind*) and one number:
a fixed argument size to skip, the width of a length prefix, or how many stack
items it pops.  ``test_opcodes.py`` checks the table against
``pickletools.opcodes``, so an opcode the unpickler knows is never one the scan
does not.
"""

from __future__ import annotations

#: Opcode kinds (see TABLE).
(
    PUSH,
    PUSH_LEN,
    STR_LEN,
    MEMOIZE,
    PUT,
    GET,
    MARK,
    POP_TO_MARK_PUSH,
    POP_TO_MARK,
    POP_PUSH,
    POP,
    POP_ONE,
    POP_MARK,
    DUP,
    STACK_GLOBAL,
    LINE,
    NOTHING,
    STOP,
    EXT,
    PROTO,
    LONG4,
    BINSTRING,
    GLOBAL,
    INST,
    STRING,
    UNICODE,
    LINE_PUT,
    LINE_GET,
    PERSID,
) = range(29)

# opcode byte -> (kind, argument): the argument is a fixed size to skip, the width of a
# length prefix, or how many stack items the opcode pops.  test_opcodes.py checks this
# table against pickletools.opcodes.
TABLE: dict[bytes, tuple[int, int]] = {
    b"N": (PUSH, 0),  # NONE
    b"\x88": (PUSH, 0),  # NEWTRUE
    b"\x89": (PUSH, 0),  # NEWFALSE
    b"}": (PUSH, 0),  # EMPTY_DICT
    b"]": (PUSH, 0),  # EMPTY_LIST
    b")": (PUSH, 0),  # EMPTY_TUPLE
    b"\x8f": (PUSH, 0),  # EMPTY_SET
    b"\x97": (PUSH, 0),  # NEXT_BUFFER
    b"K": (PUSH, 1),  # BININT1
    b"M": (PUSH, 2),  # BININT2
    b"J": (PUSH, 4),  # BININT
    b"G": (PUSH, 8),  # BINFLOAT
    b"C": (PUSH_LEN, 1),  # SHORT_BINBYTES
    b"B": (PUSH_LEN, 4),  # BINBYTES
    b"\x8e": (PUSH_LEN, 8),  # BINBYTES8
    b"\x96": (PUSH_LEN, 8),  # BYTEARRAY8
    b"\x8a": (PUSH_LEN, 1),  # LONG1
    b"\x8b": (LONG4, 4),  # LONG4 (signed length)
    b"\x8c": (STR_LEN, 1),  # SHORT_BINUNICODE
    b"X": (STR_LEN, 4),  # BINUNICODE
    b"\x8d": (STR_LEN, 8),  # BINUNICODE8
    b"U": (STR_LEN, 1),  # SHORT_BINSTRING (a str under the default ASCII encoding)
    b"T": (BINSTRING, 4),  # BINSTRING (signed length)
    b"\x94": (MEMOIZE, 0),
    b"q": (PUT, 1),  # BINPUT
    b"r": (PUT, 4),  # LONG_BINPUT
    b"h": (GET, 1),  # BINGET
    b"j": (GET, 4),  # LONG_BINGET
    b"(": (MARK, 0),
    b"l": (POP_TO_MARK_PUSH, 0),  # LIST
    b"t": (POP_TO_MARK_PUSH, 0),  # TUPLE
    b"d": (POP_TO_MARK_PUSH, 0),  # DICT
    b"\x91": (POP_TO_MARK_PUSH, 0),  # FROZENSET
    b"o": (POP_TO_MARK_PUSH, 0),  # OBJ
    b"e": (POP_TO_MARK, 0),  # APPENDS
    b"u": (POP_TO_MARK, 0),  # SETITEMS
    b"\x90": (POP_TO_MARK, 0),  # ADDITEMS
    b"\x85": (POP_PUSH, 1),  # TUPLE1
    b"\x86": (POP_PUSH, 2),  # TUPLE2
    b"\x87": (POP_PUSH, 3),  # TUPLE3
    b"R": (POP_PUSH, 2),  # REDUCE
    b"\x81": (POP_PUSH, 2),  # NEWOBJ
    b"\x92": (POP_PUSH, 3),  # NEWOBJ_EX
    b"Q": (POP_PUSH, 1),  # BINPERSID
    b"a": (POP, 1),  # APPEND (the list stays)
    b"s": (POP, 2),  # SETITEM
    b"b": (POP, 1),  # BUILD
    b"0": (POP_ONE, 0),  # POP (or the topmost MARK)
    b"1": (POP_MARK, 0),
    b"2": (DUP, 0),
    b"\x93": (STACK_GLOBAL, 0),
    b"I": (LINE, 0),  # INT
    b"L": (LINE, 0),  # LONG
    b"F": (LINE, 0),  # FLOAT
    b"P": (PERSID, 0),
    b"S": (STRING, 0),
    b"V": (UNICODE, 0),
    b"c": (GLOBAL, 0),
    b"i": (INST, 0),
    b"p": (LINE_PUT, 0),
    b"g": (LINE_GET, 0),
    b"\x80": (PROTO, 1),
    b"\x95": (NOTHING, 8),  # FRAME
    b"\x98": (NOTHING, 0),  # READONLY_BUFFER
    b"\x82": (EXT, 1),  # EXT1
    b"\x83": (EXT, 2),  # EXT2
    b"\x84": (EXT, 4),  # EXT4
    b".": (STOP, 0),
}
KIND = [-1] * 256
ARG = [0] * 256
for _code, (_kind, _arg) in TABLE.items():
    KIND[_code[0]] = _kind
    ARG[_code[0]] = _arg
