"""Section 4.12, ``shrunk``: in snapshots written by ``python -m replay shrink`` only."""

from __future__ import annotations

from typing import Any

from .fields import Builder
from .manifest import Shrunk, ShrunkInput

__all__ = ["shrunk_section"]


def shrunk_section(b: Builder, shrunk: dict[str, Any] | None) -> Shrunk | None:
    """Section 4.12, in snapshots written by ``python -m replay shrink`` only."""
    if shrunk is None:
        return None
    at = "shrunk."
    inputs = []
    for where, entry in b.objects(b.array(shrunk, "inputs", at), "shrunk.inputs"):
        inputs.append(
            ShrunkInput(
                path=b.string(entry, "path", where + "."),
                kind=b.string(entry, "kind", where + "."),
                before=b.integer(entry, "before", where + "."),
                after=b.integer(entry, "after", where + "."),
            )
        )
    return Shrunk(
        source=b.string(shrunk, "source", at),
        failure=b.string(shrunk, "failure", at),
        attempts=b.integer(shrunk, "attempts", at),
        seconds=b.number(shrunk, "seconds", at),
        complete=b.boolean(shrunk, "complete", at),
        inputs=tuple(inputs),
    )
