"""What a snapshot says about itself, read from its manifest's model; nothing is unpickled.

``summary`` is the short header a replay prints; ``describe`` is the full text
of ``python -m replay info``; ``info_dict`` is its ``--json`` form.  Everything
read from the file is shown through :func:`for_terminal`, one field at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import snapshot

from ._terminal import for_terminal, terminal_lines
from ._versions import compare_versions

__all__ = ["Signature", "describe", "format_size", "info_dict", "summary", "task_key"]

Manifest = snapshot.Manifest


class Signature(NamedTuple):
    """What is known of a snapshot's signature, as ``info`` reports it."""

    signed: bool  # the file is signed (read head only: its manifest says it is)
    verified: bool  # the signature was checked with the key given, and matched

    def __str__(self) -> str:
        if not self.signed:
            return "no"
        return f"yes ({'verified with the key given' if self.verified else 'not checked: no key'})"


def _shown(value: object) -> str:
    """A field from the file, on one line of a terminal."""
    return for_terminal(value, one_line=True)


def format_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def error_line(model: Manifest) -> str:
    """``module.Type: message`` of the captured exception, escaped."""
    error = model.error
    if error is None:
        return "?"
    kind = error.type or "?"
    if error.module and error.module != "builtins":
        kind = f"{error.module}.{kind}"
    return _shown(f"{kind}: {error.message}" if error.message else kind)


def _where(model: Manifest) -> str:
    if not model.frames:
        return "(no frames captured)"
    last = model.frames[-1]
    return _shown(f"{last.filename or '?'}, line {_number(last.lineno)}, in {last.function or '?'}")


def _number(value: int | None) -> str:
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
    """The task's key as Dask spells it (a tuple for a list), escaped."""
    key = model.task.key if model.task is not None else None
    if key is None:
        return "?"
    key = snapshot.key_from_json(key)
    return _shown(repr(key) if isinstance(key, tuple) else key)


def summary(model: Manifest, path: str) -> list[str]:
    """The few lines a replay prints first: what failed, where, when, which versions."""
    origin = _origin(model)
    return [
        f"Snapshot: {_shown(path)}",
        f"  task:    {task_key(model)}",
        f"  error:   {error_line(model)}",
        f"  where:   {_where(model)}",
        f"  when:    {_shown(model.created or '?')}" + (f" ({origin})" if origin else ""),
        f"  versions: {_versions(model)}",
    ]


def _piece_line(label: str, pid: str | None, model: Manifest) -> str:
    record = model.piece(pid) if pid is not None else None
    if record is None:
        return _shown(f"{label} = ?  [no record of piece {pid!r}]")
    status = record.status or "?"
    text = f"{label} = {record.repr or '?'}  [{record.type or '?'}"
    if status == "stored":
        text += f", {format_size(record.size)}]"
    else:
        text += f", {status}: {record.reason or ''}]"
    return _shown(text)


def info_dict(
    model: Manifest,
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
) -> dict[str, Any]:
    """The ``--json`` document: the manifest as read, plus what this machine adds to it."""
    return {
        "path": path,
        "size": size,
        "manifest": model.raw,
        "problems": list(model.problems),
        "imports": {pid: sorted(mods) for pid, mods in imports.items()},
        "version_differences": [
            {"name": d.name, "recorded": d.recorded, "local": d.local}
            for d in compare_versions(model)
        ],
        "signature": {"signed": signature.signed, "verified": signature.verified},
    }


def describe(
    model: Manifest,
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
) -> str:
    """The human-readable text of ``python -m replay info``."""
    lines = summary(model, path)
    version = _shown(model.format_version or "?")
    lines.insert(1, f"  size:    {format_size(size)}, format {version}")
    lines.insert(2, f"  signed:  {signature}")
    if model.problems:
        lines += ["", "Problems in the manifest:"]
        lines += [f"  {_shown(problem)}" for problem in model.problems]
    lines += _call_lines(model)
    if model.inputs:
        lines += ["", "Inputs:"]
        for entry in model.inputs:
            key = snapshot.key_from_json(entry.key)
            lines.append("  " + _piece_line(repr(key), entry.piece, model))
    if model.frames:
        lines += ["", "Frames captured at the raise (outermost first):"]
        for frame in model.frames:
            source = "" if frame.source else "  (no source captured)"
            where = f"{frame.filename or '?'}:{_number(frame.lineno)} in {frame.function or '?'}"
            lines.append(f"  {_shown(where)}{source}")
            for name, pid in (frame.locals or {}).items():
                lines.append("    " + _piece_line(name, pid, model))
    lines += _capture_lines(model)
    lines += _module_lines(model, imports)
    traceback_text = model.error.traceback if model.error else None
    if traceback_text:
        lines += ["", "Traceback on the worker:"]
        lines += ["  " + line for line in terminal_lines(traceback_text)]
    return "\n".join(lines) + "\n"


def _call_lines(model: Manifest) -> list[str]:
    call = model.call
    if call is None:
        return []
    lines = ["", f"Call (origin: {_shown(call.origin or '?')}):"]
    lines.append("  " + _piece_line("func", call.func, model))
    if call.args is None:
        lines.append("  args: (not recorded, or damaged: the call cannot be re-run)")
    for index, pid in enumerate(call.args or ()):
        lines.append("  " + _piece_line(f"args[{index}]", pid, model))
    for name, pid in (call.kwargs or {}).items():
        lines.append("  " + _piece_line(name, pid, model))
    return lines


def _capture_lines(model: Manifest) -> list[str]:
    capture = model.capture
    if capture is None:
        return []
    lines = [
        "",
        f"Capture: {_number(capture.stored)} of {_number(capture.pieces)} pieces stored "
        f"({format_size(capture.stored_bytes)}), {capture.placeholders or 0} placeholders, "
        f"{'complete' if capture.complete else 'incomplete'}",
    ]
    for pid, record in (model.pieces or {}).items():
        if record.status != "stored":
            lines.append(
                "  " + _shown(f"{record.label or pid}: {record.status}: {record.reason or ''}")
            )
    return lines


def _module_lines(model: Manifest, imports: Mapping[str, list[str]]) -> list[str]:
    modules = sorted({m for mods in imports.values() for m in mods})
    lines = ["", "Modules the pickles would import (read from the pickle opcodes):"]
    lines.append("  " + (_shown(", ".join(modules)) if modules else "(none)"))
    recorded = model.modules or {}
    if recorded:
        listed = ", ".join(f"{name} {v or '?'}" for name, v in sorted(recorded.items()))
        lines.append(f"  versions on the worker: {_shown(listed)}")
    differences = compare_versions(model)
    lines += ["", "Versions that differ here:"]
    lines += [f"  {_shown(d)}" for d in differences] or ["  (none)"]
    return lines
