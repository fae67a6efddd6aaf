"""What a snapshot says about itself, read from its manifest's model; nothing is unpickled.

``summary`` is the short header a replay prints; ``info_page`` is the full text
of ``python -m replay info`` (``replay._describe.display`` adds how a worker
died); ``info_dict`` is its ``--json`` form.  Everything read from the file is
shown through :func:`for_terminal`, one field at a time.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple, TypeVar

import snapshot

from .._sources.worker_traceback import checked_traceback
from .._terminal import FIELD_LIMIT, for_terminal, terminal_lines
from .._versions import compare_versions, unchecked_modules

__all__ = [
    "Signature",
    "error_line",
    "format_size",
    "info_dict",
    "info_page",
    "summary",
    "task_key",
]

Manifest = snapshot.Manifest
_T = TypeVar("_T")

#: Entries shown per list (inputs, frames, locals of a frame, arguments, capture
#: report): a crafted manifest of a million frames prints a page, not a million lines.
MAX_ENTRIES = 200


# The call form of NamedTuple: under ``from __future__ import annotations`` the
# class form compiles each field's annotation string (typing.ForwardRef), about
# 1 ms per field at the start of ``info`` on this machine.
class Signature(NamedTuple("Signature", [("signed", bool), ("verified", bool)])):
    """What is known of a snapshot's signature, as ``info`` reports it: the file is
    ``signed`` (read head only: its manifest says it is), and the signature was
    ``verified`` with the key given."""

    __slots__ = ()

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
        "imports_incomplete": dict(_scan_notes(imports, "incomplete")),
        "imports_invalid": dict(_scan_notes(imports, "invalid")),
        "version_differences": [
            {"name": d.name, "recorded": d.recorded, "local": d.local}
            for d in compare_versions(model)
        ],
        "signature": {"signed": signature.signed, "verified": signature.verified},
    }


def info_page(
    model: Manifest,
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
    source: Callable[[str], str | None] | None = None,
) -> str:
    """The human-readable text of ``python -m replay info``.

    ``source`` reads the captured source texts (``Snapshot.source``): with it, the
    worker's traceback leaves out the lines of files that changed under the worker.
    """
    lines = summary(model, path)
    version = _shown(model.format_version or "?")
    lines.insert(1, f"  size:    {format_size(size)}, format {version}")
    lines.insert(2, f"  signed:  {signature}")
    if model.problems:
        lines += ["", "Problems in the manifest:"]
        lines += _listed(model.problems, _shown, "  ")
    lines += _call_lines(model)
    if model.inputs:
        lines += ["", "Inputs:"]
        lines += _listed(
            model.inputs,
            lambda e: _piece_line(repr(snapshot.key_from_json(e.key)), e.piece, model),
            "  ",
        )
    if model.frames:
        lines += ["", "Frames captured at the raise (outermost first):"]
        shown = model.frames[-MAX_ENTRIES:]  # the innermost: where it raised
        if len(model.frames) > len(shown):
            lines.append(f"  ... {len(model.frames) - len(shown):,} outer frames not shown")
        added = len(model.amended.sources) if model.amended is not None else 0
        for frame in shown:
            missing = "" if frame.source else "  (no source captured)"
            if missing and added:
                missing = "  (no source captured on the worker; see the client's, below)"
            where = f"{frame.filename or '?'}:{_number(frame.lineno)} in {frame.function or '?'}"
            lines.append(f"  {_shown(where)}{missing}")
            lines += _listed(
                (frame.locals or {}).items(), lambda kv: _piece_line(kv[0], kv[1], model), "    "
            )
    lines += _capture_lines(model)
    lines += _amended_lines(model)
    lines += _module_lines(model, imports)
    if source is not None:
        traceback_text = checked_traceback(model, source)
    else:
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
    lines += _listed(
        tuple(enumerate(call.args or ())),
        lambda item: _piece_line(f"args[{item[0]}]", item[1], model),
        "  ",
    )
    lines += _listed((call.kwargs or {}).items(), lambda kv: _piece_line(kv[0], kv[1], model), "  ")
    return lines


def _scan_notes(imports: Mapping[str, list[str]], kind: str) -> Mapping[str, str]:
    """``snapshot.ImportScan.incomplete`` / ``.invalid``: piece id -> why."""
    notes = getattr(imports, kind, None)
    return notes if isinstance(notes, Mapping) else {}


def _label(model: Manifest, pid: str) -> str:
    record = model.piece(pid)
    return f"piece {pid} ({record.label})" if record and record.label else f"piece {pid}"


def _modules(modules: list[str]) -> list[str]:
    """The modules, all of them; a list too long for one line is told by top-level
    name, the standard library's (``os``, ``subprocess``) first and never cut, so
    that no number of other names can push them out of view."""
    if not modules:
        return ["  (none)"]
    joined = ", ".join(modules)
    if len(joined) <= FIELD_LIMIT:
        return [f"  {_shown(joined)}"]
    tops = sorted({m.partition(".")[0] for m in modules})
    stdlib = [m for m in tops if m in sys.stdlib_module_names]
    others = [m for m in tops if m not in sys.stdlib_module_names]
    lines = [
        f"  {len(modules):,} modules; of the standard library: "
        + (for_terminal(", ".join(stdlib), one_line=True, limit=0) if stdlib else "none")
    ]
    lines.append(f"  and {len(others):,} other top-level names:")
    lines += _listed(others, _shown, "    ")
    return lines


def _listed(items: Collection[_T], render: Callable[[_T], str], indent: str) -> list[str]:
    """One line per item, at most :data:`MAX_ENTRIES` of them, then how many were left out."""
    lines = [indent + render(item) for item in itertools.islice(items, MAX_ENTRIES)]
    if len(items) > MAX_ENTRIES:
        lines.append(f"{indent}... and {len(items) - MAX_ENTRIES:,} more (`info --json` has all)")
    return lines


def _amended_lines(model: Manifest) -> list[str]:
    """A client copy: the sources its client added (shown only where their code matches)."""
    amended = model.amended
    if amended is None or not amended.sources:
        return []
    lines = [
        "",
        f"Sources added by {_shown(amended.by or 'a client')} (a client copy; the debugger shows "
        "one only for code it compiles to):",
    ]
    return lines + _listed(amended.sources, _shown, "  ")


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
    left_out = [(pid, r) for pid, r in (model.pieces or {}).items() if r.status != "stored"]
    lines += _listed(
        left_out,
        lambda item: _shown(
            f"{item[1].label or item[0]}: {item[1].status}: {item[1].reason or ''}"
        ),
        "  ",
    )
    return lines


def _module_lines(model: Manifest, imports: Mapping[str, list[str]]) -> list[str]:
    modules = sorted({m for mods in imports.values() for m in mods})
    lines = ["", "Modules the pickles would import (read from the pickle opcodes):"]
    lines += _modules(modules)
    # A scan that stopped early (its budget, a member read in part, a module name
    # the pickle computes) or met an invalid pickle says so: the list is then a floor.
    for title, notes in (
        ("the list may be incomplete", _scan_notes(imports, "incomplete")),
        ("not valid pickles", _scan_notes(imports, "invalid")),
    ):
        if notes:
            lines.append(f"  {title}:")
            lines += _listed(
                tuple(notes.items()), lambda kv: _shown(f"{_label(model, kv[0])}: {kv[1]}"), "    "
            )
    recorded = model.modules or {}
    if recorded:
        listed = ", ".join(f"{name} {v or '?'}" for name, v in sorted(recorded.items()))
        lines.append(f"  versions on the worker: {_shown(listed)}")
    differences = compare_versions(model)
    lines += ["", "Versions that differ here:"]
    lines += _listed(differences, _shown, "  ") or ["  (none)"]
    unchecked = unchecked_modules(model)
    if unchecked:
        lines.append(f"  ({unchecked:,} more modules recorded on the worker were not checked)")
    return lines
