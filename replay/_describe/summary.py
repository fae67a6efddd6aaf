"""The few lines that say what failed, and the fields they are made of; nothing is unpickled.

:func:`summary` is the short header a replay prints before it re-runs; the
full ``info`` page (``replay._describe.display``) opens with it.  Everything
read from the file is shown through :func:`for_terminal`, one field at a time.
"""

from __future__ import annotations

import snapshot

from .._terminal import for_terminal

__all__ = [
    "Signature",
    "error_line",
    "failing_function",
    "format_size",
    "member_lines",
    "on_demand_line",
    "shown_number",
    "summary",
    "task_key",
]

Manifest = snapshot.Manifest


class Signature:
    """What is known of a snapshot's signature, as ``info`` reports it: the file is
    ``signed`` (read head only: its manifest says it is), and the signature was
    ``verified`` with the key given.  (A plain class: a named tuple costs the start
    of ``info`` 0.4 M instructions more to make.)"""

    __slots__ = ("signed", "verified")

    def __init__(self, signed: bool, verified: bool) -> None:
        self.signed = signed
        self.verified = verified

    def __repr__(self) -> str:
        return f"Signature(signed={self.signed!r}, verified={self.verified!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return (self.signed, self.verified) == (other.signed, other.verified)

    def __hash__(self) -> int:
        return hash((self.signed, self.verified))

    def __str__(self) -> str:
        if not self.signed:
            return "no"
        return f"yes ({'verified with the key given' if self.verified else 'not checked: no key'})"


def _shown(value: object) -> str:
    """A field from the file, on one line of a terminal."""
    return for_terminal(value, one_line=True)


def format_size(size: object) -> str:
    """``1536`` -> ``"1.5 KiB"``: ``snapshot.format_size``, the page's spelling too."""
    return snapshot.format_size(size)


def error_line(model: Manifest) -> str:
    """``module.Type: message`` of the captured exception, escaped."""
    error = model.error
    if error is None:
        return "?"
    kind = error.type or "?"
    if error.module and error.module != "builtins":
        kind = f"{error.module}.{kind}"
    return _shown(f"{kind}: {error.message}" if error.message else kind)


#: Characters of a group member's message on its line.
MEMBER_LIMIT = 200


def member_lines(model: Manifest) -> list[str]:
    """An exception group's members (spec 4.3), one a line under ``error:``, nested
    groups indented, each group's unlisted members as ``and N more``; escaped."""
    error = model.error
    if error is None:
        return []
    lines: list[str] = []
    for depth, item in error.outline():
        if isinstance(item, int):
            text = f"and {item:,} more"
        else:
            kind = item.type or "?"
            if item.module and item.module != "builtins":
                kind = f"{item.module}.{kind}"
            text = for_terminal(kind, one_line=True, limit=MEMBER_LIMIT)
            if item.message:
                text += ": " + for_terminal(item.message, one_line=True, limit=MEMBER_LIMIT)
        lead = "  members: " if not lines else " " * 11
        lines.append(lead + "  " * (depth - 1) + text)
    return lines


def _where(model: Manifest) -> str:
    if not model.frames:
        return "(no frames captured)"
    last = model.frames[-1]
    return _shown(
        f"{last.filename or '?'}, line {shown_number(last.lineno)}, in {last.function or '?'}"
    )


def failing_function(model: Manifest) -> str | None:
    """``make_err(x=0)``: the user's function where the exception was raised, with a few
    of its locals (``snapshot.failing_call``, as the page's header says it), escaped;
    None when no frame is the user's."""
    call = snapshot.failing_call(model)
    return None if call is None else _shown(call)


def shown_number(value: int | None) -> str:
    """A number from the file, or ``?`` when it has none."""
    return "?" if value is None else str(value)


def _origin(model: Manifest) -> str:
    origin = model.origin
    host = (origin.host if origin else None) or (
        model.environment.hostname if model.environment else None
    )
    parts = [f"on {host}"] if host else []
    if origin is not None:
        if origin.worker:
            parts.append(f"worker {origin.worker}")
        if origin.pid:
            parts.append(f"pid {origin.pid}")
        if origin.thread:
            parts.append(f"thread {origin.thread}")
    return _shown(", ".join(parts))


def _versions(model: Manifest) -> str:
    environment = model.environment
    python = environment.python.version if environment and environment.python else None
    parts = [f"Python {python}"] if python else []
    packages = (environment.packages if environment else None) or {}
    for name in ("dask", "distributed", "numpy", "pandas"):
        if packages.get(name):
            parts.append(f"{name} {packages[name]}")
    return _shown(", ".join(parts) or "(not recorded)")


def task_key(model: Manifest) -> str:
    """The task's key as Dask spells it (``snapshot.format_key``, as the page does), escaped."""
    return _shown(snapshot.format_key(model.task.key if model.task is not None else None))


def summary(model: Manifest, path: str) -> list[str]:
    """The few lines a replay prints first: what failed, where, when, which versions."""
    origin = _origin(model)
    lines = [
        f"Snapshot: {_shown(path)}",
        f"  task:    {task_key(model)}",
        f"  error:   {error_line(model)}",
        f"  where:   {_where(model)}",
        f"  when:    {_shown(model.created or '?')}" + (f" ({origin})" if origin else ""),
        f"  versions: {_versions(model)}",
    ]
    failing = failing_function(model)
    if failing is not None:  # the user's function, under whatever Dask wrapped it in
        lines.insert(4, f"  in:      {failing}  (your code's innermost frame)")
    asked = on_demand_line(model)
    if asked is not None:  # no error to show for a task that returned
        lines[2:4] = [asked] if model.error is None else [*lines[2:4], asked]
    if model.error is not None and model.error.members:  # an exception group's
        lines[3:3] = member_lines(model)
    return lines


def on_demand_line(model: Manifest) -> str | None:
    """``  capture: on demand (...)``: a snapshot asked for (spec 4.13), and what the task
    returned; None for a snapshot written at a raise."""
    section = model.on_demand
    if section is None:
        return None
    state = {"finished": "that had finished", "failed": "that had failed"}.get(
        str(section.state), "asked for before it ran, written once it had run"
    )
    line = f"on demand ({section.trigger or '?'}), of a task {state}"
    record = model.piece(section.result) if section.result is not None else None
    if record is not None:
        value = record.repr if record.repr and len(record.repr) <= 60 else f"<{record.type}>"
        line += f"; it returned {value}"
    return f"  capture: {_shown(line)}"
