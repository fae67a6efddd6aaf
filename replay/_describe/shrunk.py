"""The ``info`` lines of a shrunk snapshot (spec 4.12): from which file, what was shrunk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._terminal import for_terminal

if TYPE_CHECKING:
    import snapshot

__all__ = ["shrunk_lines"]

_MAX_PARTS = 50


def shrunk_lines(model: snapshot.Manifest) -> list[str]:
    """Nothing for an ordinary snapshot; else a section, every string escaped."""
    shrunk = model.shrunk
    if shrunk is None:
        return []

    def shown(value: object) -> str:
        return for_terminal(value, one_line=True)

    source = shown(shrunk.source or "?")
    lines = ["", f"Shrunk from {source} (python -m replay shrink), keeping the failure:"]
    lines.append(f"  {shown(shrunk.failure or '?')}")
    done = [f"{shrunk.attempts} attempts"] if shrunk.attempts is not None else []
    if shrunk.seconds is not None:
        done.append(f"{shrunk.seconds:.1f} s")
    if shrunk.complete is False:
        done.append("stopped by its time budget: smaller inputs may still fail")
    if done:
        lines.append(f"  {', '.join(done)}")
    for part in shrunk.inputs[:_MAX_PARTS]:
        before = f"{part.before:,}" if part.before is not None else "?"
        after = f"{part.after:,}" if part.after is not None else "?"
        lines.append(
            f"  {shown(part.path or '?')} ({shown(part.kind or '?')}): {before} -> {after}"
        )
    if len(shrunk.inputs) > _MAX_PARTS:
        lines.append(f"  ... and {len(shrunk.inputs) - _MAX_PARTS:,} more (--json lists them)")
    return lines
