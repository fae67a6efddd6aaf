"""How one piece is pickled, from a bounded look at it; and a flat pickle's prelude.

:func:`plan` looks at 64 entries of a container at most and says which
pickler and which memo a piece gets (:data:`REFERENCES`, :data:`PLAIN`,
:data:`FLAT`), and, for a flat pickle, which strings its entries share.

A flat pickle has no memo: each object is written where it is met.  A bag
partition of records (``[{"id": 1, "name": ...}, ...]``) holds the same key
strings in every record; written again in each, they load as new strings in
each (three per record: 330 MiB and a third of the load time for 2 million
records).  So the strings the sampled entries share are written once, in a
*prelude* at the start of the pickle, each put in the unpickler's memo
(``MEMOIZE``) and popped; the pickler's memo is preset to them, so every later
meeting of the same object is a ``BINGET``.  The stream stays one standard
pickle that ``pickle.loads`` reads (an opcode ``PROTO`` may appear again after
the prelude), holding one entry per shared string in either memo.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, NamedTuple

from .._byvalue import LEAVES
from .pickler import ATOMS, CONTAINERS, HOIST_BYTES, OutOfBand

#: How to pickle one piece: with references (and pickle's memo), plain (memo,
#: no references), or flat (neither, but for a prelude of shared strings).
REFERENCES, PLAIN, FLAT = "references", "plain", "flat"

#: Strings in a sample, all distinct objects, for a sequence of them to go without the memo.
_MIN_DISTINCT = 16
#: Strings a prelude holds at most, and their bytes at most.
MAX_SHARED = 256
MAX_SHARED_BYTES = 1024 * 1024


class Plan(NamedTuple):
    """How a piece is pickled, and the strings a flat pickle's prelude writes once."""

    how: str
    shared: tuple[str | bytes, ...] = ()


def plan(obj: object) -> Plan:
    """How ``obj`` is pickled, from a bounded look at 64 of its entries at most.

    A container of plain scalars (a list of small dicts of ints and short
    strings, a dict of str to int) holds nothing another piece can share, so it
    pickles without ``persistent_id`` and its cost.  One whose entries are
    themselves containers is also pickled without pickle's memo, whose table
    costs 16 to 48 bytes per container (192 MiB for 2 million small dicts),
    but with a prelude of the strings the entries share (:func:`shared_in`).
    So is a list or tuple of strings that are distinct objects (an object
    column's values, which numpy's reduce hands over as one list: the memo
    was 64 MiB of the 111 MiB a 2-million-row column's capture added, and
    half its time).  A dict's string keys keep it, as a pickle without it
    compresses a fifth worse (a million keys: 4.0 against 3.3 MiB).
    """
    kind = type(obj)
    if kind in LEAVES or kind is OutOfBand:
        return Plan(PLAIN)
    sample: list[Any]
    if kind is list or kind is tuple:
        seq: Any = obj
        n = len(seq)
        sample = list(seq[:32]) + (list(seq[32 :: max(1, n // 32)]) if n > 32 else [])
    elif kind is dict:
        mapping: Any = obj
        sample = list(islice(mapping.keys(), 32)) + list(islice(mapping.values(), 32))
    elif kind is set or kind is frozenset:
        sample = list(islice(obj, 64))  # type: ignore[call-overload]
    else:
        return Plan(REFERENCES)
    if not all(_plain(item, 0) for item in sample):
        return Plan(REFERENCES)
    held = [item for item in sample if type(item) in CONTAINERS]
    # Without the memo, one container held twice is written twice: ``[row] * n``
    # keeps it.
    if held:
        if len({id(item) for item in held}) != len(held):
            return Plan(PLAIN)
        return Plan(FLAT, shared_in(held))
    if kind is list or kind is tuple:
        # A sequence of distinct strings (an object column's values, which
        # numpy's reduce hands over as one list): the memo would hold an entry
        # per string, 64 MiB for 2 million, and dedupe nothing.  Strings seen
        # twice in the sample keep it (a column of a few shared values).
        texts = [id(item) for item in sample if type(item) is str]
        if len(texts) >= _MIN_DISTINCT and len(set(texts)) == len(texts):
            return Plan(FLAT)
    return Plan(PLAIN)


def shared_in(entries: list[Any]) -> tuple[str | bytes, ...]:
    """The strings (and bytes) that two or more of ``entries`` hold: the same objects.

    ``entries`` are sampled containers of scalars (:func:`_plain`, depth 0):
    a record's keys, a category's value.  Bounded by :data:`MAX_SHARED` and
    :data:`MAX_SHARED_BYTES`, first met first.
    """
    seen: dict[int, tuple[int, str | bytes]] = {}  # id -> (entries holding it, the object)
    for entry in entries:
        items: Any = entry.items() if type(entry) is dict else ((item,) for item in entry)
        mine: set[int] = set()
        for pair in items:
            for item in pair:
                kind = type(item)
                if (kind is str or kind is bytes) and id(item) not in mine:
                    mine.add(id(item))
                    count, _ = seen.get(id(item), (0, item))
                    seen[id(item)] = (count + 1, item)
    shared: list[str | bytes] = []
    size = 0
    for count, item in seen.values():
        if count < 2:
            continue
        size += len(item)
        if len(shared) >= MAX_SHARED or size > MAX_SHARED_BYTES:
            break
        shared.append(item)
    return tuple(shared)


def _plain(obj: object, depth: int) -> bool:
    kind = type(obj)
    if kind in ATOMS:
        return True
    if kind is str or kind is bytes:
        return len(obj) < HOIST_BYTES  # type: ignore[arg-type]
    if depth == 0 and kind in CONTAINERS and len(obj) <= 32:  # type: ignore[arg-type]
        if kind is dict:
            mapping: Any = obj
            return all(_plain(k, 1) and _plain(v, 1) for k, v in mapping.items())
        return all(_plain(item, 1) for item in obj)  # type: ignore[attr-defined]
    return False


def prelude(shared: tuple[str | bytes, ...]) -> bytes:
    """The opcodes that put ``shared`` in an unpickler's memo at 0, 1, ... and leave the stack empty."""
    out = bytearray(b"\x80\x05")  # PROTO 5
    for item in shared:
        text = type(item) is str
        data = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else bytes(item)
        short = len(data) < 256
        if text:
            out += b"\x8c" + bytes([len(data)]) if short else b"X" + len(data).to_bytes(4, "little")
        else:
            out += b"C" + bytes([len(data)]) if short else b"B" + len(data).to_bytes(4, "little")
        out += data
        out += b"\x940"  # MEMOIZE, POP
    return bytes(out)


def preset_memo(shared: tuple[str | bytes, ...]) -> dict[int, tuple[int, object]]:
    """A pickler's memo that knows ``shared`` at the indices :func:`prelude` gave them."""
    return {id(item): (index, item) for index, item in enumerate(shared)}
