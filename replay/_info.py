"""What a snapshot says about itself, read from its manifest; nothing is unpickled.

``summary`` is the short header a replay prints; ``describe`` is the full text
of ``python -m replay info``; ``info_dict`` is its ``--json`` form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ._terminal import for_terminal, terminal_lines
from ._versions import compare_versions

__all__ = ["Signature", "describe", "format_size", "info_dict", "summary", "task_key"]


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


def _error_line(manifest: Mapping[str, Any]) -> str:
    error = manifest.get("error") or {}
    kind = error.get("type", "?")
    module = error.get("module")
    if module and module != "builtins":
        kind = f"{module}.{kind}"
    message = error.get("message", "")
    return _shown(f"{kind}: {message}" if message else kind)


def _where(manifest: Mapping[str, Any]) -> str:
    frames = manifest.get("frames") or []
    if not frames:
        return "(no frames captured)"
    last = frames[-1]
    return _shown(f"{last.get('filename')}, line {last.get('lineno')}, in {last.get('function')}")


def _origin(manifest: Mapping[str, Any]) -> str:
    origin = manifest.get("origin") or {}
    environment = manifest.get("environment") or {}
    parts = []
    host = origin.get("host") or environment.get("hostname")
    if host:
        parts.append(f"on {host}")
    if origin.get("worker"):
        parts.append(f"worker {origin['worker']}")
    if origin.get("pid"):
        parts.append(f"pid {origin['pid']}")
    if origin.get("thread"):
        parts.append(f"thread {origin['thread']}")
    return _shown(", ".join(parts))


def _versions(manifest: Mapping[str, Any]) -> str:
    environment = manifest.get("environment") or {}
    python = (environment.get("python") or {}).get("version")
    parts = [f"Python {python}"] if python else []
    packages = environment.get("packages") or {}
    for name in ("dask", "distributed", "numpy", "pandas"):
        if packages.get(name):
            parts.append(f"{name} {packages[name]}")
    return _shown(", ".join(parts) or "(not recorded)")


def task_key(manifest: Mapping[str, Any]) -> str:
    key = (manifest.get("task") or {}).get("key")
    if isinstance(key, list):
        return _shown(repr(tuple(key)))
    return _shown(key) if key is not None else "?"


def summary(manifest: Mapping[str, Any], path: str) -> list[str]:
    """The few lines a replay prints first: what failed, where, when, which versions."""
    created = _shown(manifest.get("created", "?"))
    origin = _origin(manifest)
    lines = [
        f"Snapshot: {_shown(path)}",
        f"  task:    {task_key(manifest)}",
        f"  error:   {_error_line(manifest)}",
        f"  where:   {_where(manifest)}",
        f"  when:    {created}" + (f" ({origin})" if origin else ""),
        f"  versions: {_versions(manifest)}",
    ]
    return lines


def _pieces(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    pieces = manifest.get("pieces") or {}
    return {str(pid): record for pid, record in pieces.items() if isinstance(record, Mapping)}


def _piece_line(label: str, pid: str, pieces: Mapping[str, Mapping[str, Any]]) -> str:
    record = pieces.get(pid) or {}
    status = record.get("status", "?")
    text = f"{label} = {record.get('repr', '?')}  [{record.get('type', '?')}"
    if status == "stored":
        text += f", {format_size(record.get('size'))}]"
    else:
        text += f", {status}: {record.get('reason', '')}]"
    return _shown(text)


def info_dict(
    manifest: Mapping[str, Any],
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
) -> dict[str, Any]:
    """The ``--json`` document: the manifest plus what this machine adds to it."""
    return {
        "path": path,
        "size": size,
        "manifest": dict(manifest),
        "imports": {pid: sorted(mods) for pid, mods in imports.items()},
        "version_differences": [
            {"name": d.name, "recorded": d.recorded, "local": d.local}
            for d in compare_versions(manifest)
        ],
        "signature": {"signed": signature.signed, "verified": signature.verified},
    }


def describe(
    manifest: Mapping[str, Any],
    path: str,
    size: int | None,
    imports: Mapping[str, list[str]],
    signature: Signature,
) -> str:
    """The human-readable text of ``python -m replay info``."""
    pieces = _pieces(manifest)
    lines = summary(manifest, path)
    version = _shown(manifest.get("format_version", "?"))
    lines.insert(1, f"  size:    {format_size(size)}, format {version}")
    lines.insert(2, f"  signed:  {signature}")

    call = manifest.get("call") or {}
    if call:
        lines += ["", f"Call (origin: {_shown(call.get('origin', '?'))}):"]
        lines.append("  " + _piece_line("func", str(call.get("func")), pieces))
        for index, pid in enumerate(call.get("args") or []):
            lines.append("  " + _piece_line(f"args[{index}]", str(pid), pieces))
        for name, pid in (call.get("kwargs") or {}).items():
            lines.append("  " + _piece_line(name, str(pid), pieces))
    inputs = manifest.get("inputs") or []
    if inputs:
        lines += ["", "Inputs:"]
        for entry in inputs:
            lines.append(
                "  " + _piece_line(repr(entry.get("key")), str(entry.get("piece")), pieces)
            )

    frames = manifest.get("frames") or []
    if frames:
        lines += ["", "Frames captured at the raise (outermost first):"]
        for frame in frames:
            source = "" if frame.get("source") else "  (no source captured)"
            lines.append(
                _shown(
                    f"  {frame.get('filename')}:{frame.get('lineno')} in {frame.get('function')}"
                )
                + source
            )
            for name, pid in (frame.get("locals") or {}).items():
                lines.append("    " + _piece_line(name, str(pid), pieces))

    capture = manifest.get("capture") or {}
    if capture:
        lines += [
            "",
            _shown(
                f"Capture: {capture.get('stored', '?')} of {capture.get('pieces', '?')} pieces "
                f"stored ({format_size(capture.get('stored_bytes'))}), "
                f"{capture.get('placeholders', 0)} placeholders, "
                f"{'complete' if capture.get('complete') else 'incomplete'}"
            ),
        ]
        for pid, record in pieces.items():
            if record.get("status") != "stored":
                lines.append(
                    _shown(f"  {record.get('label', pid)}: {record.get('status')}: ")
                    + _shown(record.get("reason", ""))
                )

    modules = sorted({m for mods in imports.values() for m in mods})
    lines += ["", "Modules the pickles would import (read from the pickle opcodes):"]
    lines.append("  " + (_shown(", ".join(modules)) if modules else "(none)"))

    recorded = manifest.get("modules") or {}
    if recorded:
        lines.append(
            "  versions on the worker: "
            + _shown(", ".join(f"{name} {v or '?'}" for name, v in sorted(recorded.items())))
        )
    differences = compare_versions(manifest)
    lines += ["", "Versions that differ here:"]
    lines += [f"  {_shown(d)}" for d in differences] or ["  (none)"]

    traceback_text = (manifest.get("error") or {}).get("traceback")
    if traceback_text:
        lines += ["", "Traceback on the worker:"]
        lines += ["  " + line for line in terminal_lines(traceback_text)]
    return "\n".join(lines) + "\n"
