"""Matching captured code objects against compiled source: by code, never by line numbers.

A candidate source is a :class:`Unit`: text compiled on its own (a file, a
notebook cell, one cell of an nbconvert export), with where its lines are
shown.  A definition in it is accepted for a captured :class:`Reference` only
when its code hashes the same (``snapshot._codehash``: bytecode, constants,
names, line table) and it starts at the captured first line relative to the
unit.  A function ``recip`` at a coincidental line, or with another body, is
never taken for the one that ran.
"""

from __future__ import annotations

import functools
import itertools
import types
from collections.abc import Iterable
from dataclasses import dataclass

from snapshot._codehash import code_objects, code_sha256

__all__ = [
    "DYNAMIC_CODE",
    "FunctionLines",
    "Match",
    "Reference",
    "Unit",
    "UnitIndex",
    "by_value_functions",
    "code_objects",
    "reference_for",
    "relocate",
]

#: The file name cloudpickle gives every function it pickles by value (defined in
#: ``__main__`` or a notebook): their source never travels with them.
DYNAMIC_CODE = "<dynamic-code>"

# The walk over the call for by-value functions stops after this many objects:
# it looks through containers and callables, never into data.
_MAX_WALK = 20_000


@dataclass(frozen=True)
class Reference:
    """A code object that ran, to be found in source: its name, first line and hash."""

    name: str
    firstlineno: int
    sha256: str


def reference_for(code: types.CodeType) -> Reference:
    return Reference(code.co_name, code.co_firstlineno, code_sha256(code))


@dataclass(frozen=True)
class Unit:
    """Source text compiled on its own, and where its lines are shown.

    Line ``n`` of ``text`` is line ``n + offset`` of ``filename``.  ``slack``
    allows that many blank lines before the unit's real start (an nbconvert
    export puts blank lines between its ``# In[N]:`` header and the cell).
    ``register`` puts ``text`` into ``linecache`` under ``filename`` (a cell
    has no file of its own); otherwise ``filename`` is a file read from disk.
    ``announce`` says where the source was found (not for the snapshot's own).
    """

    text: str
    filename: str
    origin: str
    offset: int = 0
    slack: int = 0
    register: bool = False
    announce: bool = True


@dataclass(frozen=True)
class Match:
    """Where a reference's lines are shown: captured line ``n`` is ``n + shift`` of the unit."""

    unit: Unit
    shift: int

    def line(self, captured: int) -> int:
        return captured + self.shift


class UnitIndex:
    """The code objects of one compiled unit, by ``(name, hash)``; empty if it does not compile."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self._firsts: dict[tuple[str, str], list[int]] = {}
        try:
            module = compile(unit.text, unit.filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            self.compiles = False
            return
        self.compiles = True
        for code in code_objects(module):
            key = (code.co_name, code_sha256(code))
            self._firsts.setdefault(key, []).append(code.co_firstlineno)

    def names(self) -> set[str]:
        return {name for name, _ in self._firsts}

    def moved(self, ref: Reference) -> int | None:
        """The first line at which this unit defines ``ref``'s very code elsewhere, if it does."""
        firsts = self._firsts.get((ref.name, ref.sha256))
        return firsts[0] + self.unit.offset if firsts else None

    def find(self, ref: Reference) -> Match | None:
        for first in self._firsts.get((ref.name, ref.sha256), []):
            delta = first - ref.firstlineno
            if 0 <= delta <= self.unit.slack:
                return Match(self.unit, delta + self.unit.offset)
        return None


class FunctionLines:
    """The lines each code object of a compiled unit runs, by name and first line.

    The check for a frame that records no code hash (format 1.0, or another
    Python's bytecode): the text must at least define the function at its first
    line and run the frame's line in it.  A file edited after it was imported
    (lines shifted) fails it; an edit that keeps every line in place cannot be seen.
    """

    def __init__(self, module: types.CodeType) -> None:
        self._lines: dict[tuple[str, int], set[int]] = {}
        for code in code_objects(module):
            lines = self._lines.setdefault((code.co_name, code.co_firstlineno), set())
            lines.update(line for _, _, line in code.co_lines() if line is not None)

    @classmethod
    def of(cls, text: str, filename: str) -> FunctionLines | None:
        """The lines of ``text`` compiled, or None when it does not compile here."""
        try:
            return cls(compile(text, filename, "exec", dont_inherit=True))
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return None

    def runs(self, name: str, first: int | None, lineno: int) -> bool:
        if first is not None:
            return lineno in self._lines.get((name, first), ())
        return any(lineno in lines for (n, _), lines in self._lines.items() if n == name)


def relocate(code: types.CodeType, filename: str, shift: int) -> types.CodeType:
    """``code`` (and its nested code) renamed to ``filename``, its lines moved by ``shift``."""
    consts = tuple(
        relocate(c, filename, shift) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(
        co_filename=filename, co_firstlineno=code.co_firstlineno + shift, co_consts=consts
    )


def by_value_functions(roots: Iterable[object]) -> list[types.FunctionType]:
    """The functions cloudpickle shipped by value that ``roots`` reach.

    Follows functions (their globals, closures and defaults), ``functools.partial``,
    bound methods, classes defined by value, containers and Dask's task objects
    (a fused task or ``map_partitions`` hides the user's function in them), up
    to a fixed number of objects.
    """
    found: list[types.FunctionType] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack and len(seen) < _MAX_WALK:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            if obj.__code__.co_filename == DYNAMIC_CODE:
                found.append(obj)
                names = {n for c in code_objects(obj.__code__) for n in c.co_names}
                stack.extend(v for k, v in obj.__globals__.items() if k in names)
            stack.extend(cell.cell_contents for cell in obj.__closure__ or () if _filled(cell))
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
        elif isinstance(obj, functools.partial):
            stack += [obj.func, *obj.args, *obj.keywords.values()]
        elif isinstance(obj, types.MethodType):
            stack.append(obj.__func__)
        elif isinstance(obj, (staticmethod, classmethod)):
            stack.append(obj.__func__)
        elif isinstance(obj, property):
            stack += [obj.fget, obj.fset, obj.fdel]
        elif isinstance(obj, type):
            if _defined_by_value(obj):
                stack.extend(vars(obj).values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(itertools.islice(obj, _MAX_WALK))  # never copy a big list whole
        elif isinstance(obj, dict):
            stack.extend(itertools.islice(obj.values(), _MAX_WALK))
        elif type(obj).__module__.split(".")[0] == "dask":
            stack.extend(getattr(obj, name, None) for name in ("func", "args", "kwargs", "dsk"))
    return found


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _defined_by_value(cls: type) -> bool:
    return any(
        isinstance(v, types.FunctionType) and v.__code__.co_filename == DYNAMIC_CODE
        for v in vars(cls).values()
    )
