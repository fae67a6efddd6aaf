"""Matching captured code objects against compiled source: by code, never by line numbers.

A candidate source is a :class:`Unit`: text compiled on its own (a file, a
notebook cell, one cell of an nbconvert export), with where its lines are
shown.  A definition in it is accepted for a captured :class:`Reference` only
when its code hashes the same (``snapshot.code_sha256``: bytecode, constants,
names, line table) and it starts at the captured first line relative to the
unit.  A function ``recip`` at a coincidental line, or with another body, is
never taken for the one that ran.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

from snapshot import CompiledSource, code_sha256

__all__ = [
    "FunctionLines",
    "Match",
    "Reference",
    "Unit",
    "UnitIndex",
    "reference_for",
    "relocate",
]


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
        self._compiled = CompiledSource(unit.text, unit.filename)
        self.compiles = self._compiled.compiles

    def names(self) -> set[str]:
        return self._compiled.names()

    def moved(self, ref: Reference) -> int | None:
        """The first line at which this unit defines ``ref``'s very code elsewhere, if it does."""
        firsts = self._compiled.first_lines(ref.name, ref.sha256)
        return firsts[0] + self.unit.offset if firsts else None

    def find(self, ref: Reference) -> Match | None:
        for first in self._compiled.first_lines(ref.name, ref.sha256):
            delta = first - ref.firstlineno
            if 0 <= delta <= self.unit.slack:
                return Match(self.unit, delta + self.unit.offset)
        return None


class FunctionLines:
    """The lines each code object of a compiled unit runs, by name and first line.

    The check for a frame that records no code hash (format 1.0, or another
    Python's bytecode): the text must at least define the function at its first
    line and run the frame's line in it (``snapshot.CompiledSource.runs``, the
    one implementation the HTML page uses too).  A file edited after it was
    imported (lines shifted) fails it; an edit that keeps every line in place
    cannot be seen.
    """

    def __init__(self, compiled: CompiledSource) -> None:
        self._compiled = compiled

    @classmethod
    def of(cls, text: str, filename: str) -> FunctionLines | None:
        """The lines of ``text`` compiled, or None when it does not compile here."""
        compiled = CompiledSource(text, filename)
        return cls(compiled) if compiled.compiles else None

    def runs(self, name: str, first: int | None, lineno: int) -> bool:
        return self._compiled.runs(name, first, lineno)


def relocate(code: types.CodeType, filename: str, shift: int) -> types.CodeType:
    """``code`` (and its nested code) renamed to ``filename``, its lines moved by ``shift``."""
    consts = tuple(
        relocate(c, filename, shift) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(
        co_filename=filename, co_firstlineno=code.co_firstlineno + shift, co_consts=consts
    )
