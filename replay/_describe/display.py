"""What a snapshot shows, rendered once: the ``info`` page, and a Replay's display in IPython.

:func:`snapshot_text` is the text of ``python -m replay info`` (the summary,
the call, the inputs with their types and sizes, the frames, the capture
report, the modules, the worker's traceback, how a worker died), every field
from the file escaped for a terminal; :func:`info_dict` is its ``--json``
form.  IPython's pretty printer shows that same text (:func:`pretty_text`);
Jupyter shows a table of the essentials above the snapshot's HTML page
(:func:`html_page`, ``snapshot.render_html``: the frames, their source and
locals, folded), every string escaped for HTML.  Nothing is unpickled.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

import snapshot

from .._sources.worker_traceback import checked_traceback
from .._terminal import FIELD_LIMIT, for_terminal, terminal_lines
from .._versions import compare_versions, unchecked_modules
from .summary import (
    Signature,
    format_size,
    shown_number,
    summary,
)
from .userframes import is_library_frame

__all__ = ["MAX_ENTRIES", "html_page", "info_dict", "pretty_text", "snapshot_text"]

Manifest = snapshot.Manifest
_T = TypeVar("_T")

#: Entries shown per list (inputs, frames, locals of a frame, arguments, capture
#: report): a crafted manifest of a million frames prints a page, not a million lines.
MAX_ENTRIES = 200
#: Lines shown of one multi-line repr.
MAX_REPR_LINES = 40


def _shown(value: object) -> str:
    """A field from the file, on one line of a terminal."""
    return for_terminal(value, one_line=True)


def snapshot_text(
    model: Manifest,
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
    source: Callable[[str], str | None] | None = None,
    *,
    all_frames: bool = False,
) -> str:
    """The text of ``python -m replay info``: a worker's death is told after its header
    (its stacks stay at the end).

    ``source`` reads the captured source texts (``Snapshot.source``): with it, the
    worker's traceback leaves out the lines of files that changed under the worker.
    ``all_frames`` shows the locals of library frames too (see :mod:`.userframes`).
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
        lines += _frame_lines(model, shown, all_frames)
    lines += _capture_lines(model)
    lines += _amended_lines(model)
    if model.shrunk is not None:  # replay shrink's section (spec 4.12)
        from .shrunk import shrunk_lines  # imported only for such a file, as death is

        lines += shrunk_lines(model)
    lines += _module_lines(model, imports)
    if source is not None:
        traceback_text = checked_traceback(model, source)
    else:
        traceback_text = model.error.traceback if model.error else None
    if traceback_text:
        lines += ["", "Traceback on the worker:"]
        lines += ["  " + line for line in terminal_lines(traceback_text)]
    text = "\n".join(lines) + "\n"
    if model.death is None:
        return text
    from .death import death_info

    return death_info(model, text)


def _frame_lines(model: Manifest, frames: Sequence[snapshot.Frame], all_frames: bool) -> list[str]:
    """Each frame's place; the locals of the user's frames (all frames' with
    ``all_frames``, the innermost's when no frame is the user's)."""
    added = len(model.amended.sources) if model.amended is not None else 0
    user = [not is_library_frame(frame) for frame in frames]
    full = [all_frames or mine for mine in user]
    if frames and not any(full):
        full[-1] = True
    lines = []
    folded = 0
    for frame, in_full in zip(frames, full, strict=True):
        missing = "" if frame.source else "  (no source captured)"
        if missing and added:
            missing = "  (no source captured on the worker; see the client's, below)"
        where = f"{frame.filename or '?'}:{shown_number(frame.lineno)} in {frame.function or '?'}"
        count = len(frame.locals or {})
        if not in_full:
            folded += 1
            hidden = f"  [library; {count} local(s) not shown]" if count else "  [library]"
            lines.append(f"  {_shown(where)}{hidden}")
            continue
        lines.append(f"  {_shown(where)}{missing}")
        lines += _listed(
            (frame.locals or {}).items(), lambda kv: _piece_line(kv[0], kv[1], model), "    "
        )
    if folded:
        lines.append(
            f"  ({folded} frame(s) of installed libraries on one line each: "
            "`info --all-frames` shows their locals, `info --json` has everything)"
        )
    return lines


def _piece_line(label: str, pid: str | None, model: Manifest) -> str:
    """``label = repr  [type, size]``; a repr of several lines (a Series, a DataFrame)
    follows on lines of its own behind a ``|`` gutter, each escaped on its own, so
    that no line of a value can pass for another entry."""
    record = model.piece(pid) if pid is not None else None
    if record is None:
        return _shown(f"{label} = ?  [no record of piece {pid!r}]")
    status = record.status or "?"
    note = f"[{record.type or '?'}"
    if status == "stored":
        note += f", {format_size(record.size)}]"
    else:
        note += f", {status}: {record.reason or ''}]"
    value = (record.repr or "?")[:FIELD_LIMIT]
    if "\n" not in value.strip("\n"):
        return _shown(f"{label} = {value.strip(chr(10))}  {note}")
    lines = value.strip("\n").split("\n")
    shown = [_shown(f"{label} =  {note}")]
    shown += ["  | " + _shown(line) for line in lines[:MAX_REPR_LINES]]
    if len(lines) > MAX_REPR_LINES:
        shown.append(f"  | ... {len(lines) - MAX_REPR_LINES:,} more lines")
    return "\n".join(shown)


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


def pretty_text(opened: snapshot.Snapshot, path: str) -> str:
    """The text ``info`` prints for the snapshot opened from ``path`` (terminal-safe)."""
    try:
        size: int | None = os.path.getsize(path)
    except OSError:
        size = None
    imports: Mapping[str, list[str]]
    try:
        imports = opened.imports()
    except Exception:  # the module scan is a nicety here; never fail a repr
        imports = {}
    signature = Signature(signed=opened.signed, verified=opened.verified)
    text = snapshot_text(opened.model, path, size, imports, signature, opened.source)
    return text.rstrip("\n")


def html_page(opened: snapshot.Snapshot, path: str) -> str:
    """An HTML fragment: the snapshot's page (``snapshot.render_html``, the one renderer
    of ``python -m replay html`` and the dashboard), its frames folded, under its own
    header alone (task, error, worker, time; the path in its commands)."""
    page = snapshot.render_html(opened, name=path, fragment=True)
    return f"<div class='dask-replay'>{page}</div>"


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
    lines = [
        indent + line
        for item in itertools.islice(items, MAX_ENTRIES)
        for line in render(item).split("\n")  # a multi-line repr's own lines (_piece_line)
    ]
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
        f"Capture: {shown_number(capture.stored)} of {shown_number(capture.pieces)} pieces stored "
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
