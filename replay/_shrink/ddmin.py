"""Zeller's delta debugging (ddmin) over the positions of one part.

``fails(keep)`` says whether the call still fails the same way with only the
units at the positions ``keep`` (a numpy array when numpy is here, else a
list); it returns None once the budget is spent, and the search stops with
the smallest set found so far.  The empty set is tried first: many failures
need no unit at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ddmin", "positions"]


def positions(n: int) -> Any:
    try:
        import numpy
    except ImportError:
        return list(range(n))
    return numpy.arange(n)


def _split(keep: Any, n: int) -> list[Any]:
    length = len(keep)
    bounds = [length * i // n for i in range(n + 1)]
    return [keep[bounds[i] : bounds[i + 1]] for i in range(n) if bounds[i] < bounds[i + 1]]


def _concat(chunks: list[Any], like: Any) -> Any:
    if isinstance(like, list):
        return [x for chunk in chunks for x in chunk]
    import numpy

    return numpy.concatenate(chunks) if chunks else like[:0]


def ddmin(keep: Any, fails: Callable[[Any], bool | None]) -> Any:
    """The smallest subset of ``keep`` found for which ``fails`` holds (1-minimal unless
    the budget ran out)."""
    if len(keep) == 0:
        return keep
    empty = keep[:0]
    verdict = fails(empty)
    if verdict is None or verdict:
        return empty if verdict else keep
    n = 2
    while len(keep) >= 2:
        chunks = _split(keep, n)
        reduced = False
        for chunk in chunks:
            verdict = fails(chunk)
            if verdict is None:
                return keep
            if verdict:
                keep, n, reduced = chunk, 2, True
                break
        if not reduced and n > 2:
            for index in range(len(chunks)):
                rest = _concat(chunks[:index] + chunks[index + 1 :], keep)
                verdict = fails(rest)
                if verdict is None:
                    return keep
                if verdict:
                    keep, n, reduced = rest, max(n - 1, 2), True
                    break
        if not reduced:
            if n >= len(keep):
                break
            n = min(n * 2, len(keep))
    return keep
