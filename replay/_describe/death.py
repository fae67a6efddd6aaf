"""How a worker died, told from a death snapshot's manifest; nothing is unpickled.

A death snapshot (its manifest has a ``death`` section, written by
``cluster_hook`` when a worker process died running the task) holds no
exception and no frames: it holds how the process ended, the Python stacks
faulthandler wrote at the fatal signal, and the call.  :func:`death_lines`
says all that; ``replay._run.conditions`` re-creates the worker's conditions
around a re-run, and ``replay._run.verdict`` says whether it died the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from .._terminal import for_terminal, terminal_lines
from .summary import format_size

if TYPE_CHECKING:  # info and list import this module: keep their path lean
    import snapshot

__all__ = [
    "death_info",
    "death_label",
    "death_lines",
    "is_count",
    "is_death",
    "lost_inputs",
    "recomputed_lines",
]


def is_death(manifest: snapshot.Manifest) -> bool:
    """Whether the snapshot records a worker that died, rather than an exception."""
    return manifest.death is not None


def death_label(manifest: snapshot.Manifest) -> str:
    """``out of memory``, ``SIGSEGV``, ``exit status 1``: ``snapshot.death_label`` (the
    page's words too), escaped for the terminal."""
    import snapshot  # loaded already (by .summary): the name only

    return _text(snapshot.death_label(manifest))


def _text(value: object) -> str:
    return for_terminal(value, one_line=True)


def death_lines(manifest: snapshot.Manifest, *, stacks: bool = True) -> list[str]:
    """How the worker died, its memory, what was lost, and (``stacks``) the stacks at death.

    Every string from the file is escaped for the terminal.
    """
    section = manifest.death
    if section is None:
        return []
    label = death_label(manifest) if section.cause is not None else "cause not recorded"
    lines = ["", f"The worker died running this task: {label}"]
    if section.summary:
        lines.append(f"  {_text(section.summary)}")
    facts = []
    if is_count(section.memory_limit):
        facts.append(f"memory limit {format_size(section.memory_limit)}")
    if is_count(section.rss_at_kill):
        facts.append(f"RSS when the nanny killed it {format_size(section.rss_at_kill)}")
    if section.memory is not None and is_count(section.memory.process):
        facts.append(f"RSS at its last heartbeat {format_size(section.memory.process)}")
    if facts:
        lines.append("  " + ", ".join(facts))
    where = [f"worker {_text(section.worker)}"] if section.worker else []
    if section.host:
        where.append(f"host {_text(section.host)}")
    if is_count(section.pid):
        where.append(f"pid {section.pid}")
    if where:
        lines.append("  " + ", ".join(where))
    for entry in section.lost_inputs:
        lines.append(f"  input {_text(repr(entry.key))} lost: {_text(entry.reason)}")
    lines += recomputed_lines(manifest)
    text = section.stacks
    if text:
        if stacks:
            lines += ["", "Python stacks at the worker's death (faulthandler):"]
            lines += ["  " + line for line in terminal_lines(text.rstrip("\n"))]
        else:
            lines.append("  Python stacks at its death: below, under 'Traceback on the worker'")
    else:
        lines.append(f"  no Python stacks: {_text(section.stacks_reason or 'none written')}")
    return lines


def recomputed_lines(manifest: snapshot.Manifest) -> list[str]:
    """One line per input recomputed from its task (its only copy was lost), escaped."""
    lines = []
    for entry in manifest.inputs:
        how = entry.recomputed
        if how is None:
            continue
        sources = ", ".join(_text(repr(k)) for k in how.sources)
        task = f"{_text(how.function or '?')}({sources})"
        by = f" by {_text(how.by)}" if how.by else ""
        lines.append(
            f"  input {_text(repr(entry.key))} recomputed from its task {task}{by}: "
            "its only copy died with a worker; an impure task (random numbers, the clock, "
            "I/O) may have given another value than the one this task got"
        )
    return lines


def is_count(value: object) -> TypeGuard[int]:
    """A positive ``int`` from the file (a size, a pid): ``bool`` and ``0`` are none."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def death_info(manifest: snapshot.Manifest, text: str) -> str:
    """``info``'s text with the death told after its header (the stacks stay at the end)."""
    lines = death_lines(manifest, stacks=False)
    if not lines:
        return text
    head, sep, rest = text.partition("\n\n")
    return head + "\n" + "\n".join(lines) + sep + rest


def lost_inputs(manifest: snapshot.Manifest) -> list[str]:
    """The keys of the inputs that died with the worker, escaped."""
    section = manifest.death
    return [] if section is None else [_text(repr(e.key)) for e in section.lost_inputs]
