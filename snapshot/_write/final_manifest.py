"""The manifest as written: the capture report, buffers, sources, modules, as strict JSON."""

from __future__ import annotations

import json
from typing import Any

from .._format import OMITTED, STORED, source_entry
from .._inapp import is_stdlib
from .._installed import module_version
from .environment import environment_info
from .redact import REDACTED, Redactor
from .store import PieceStore


def _strict_json(value: Any, depth: int = 0) -> Any:
    """Plain JSON: NaN and infinities (a float task key, an annotation) and
    objects JSON has no type for become their ``repr``, so strict parsers
    (and ``jq``) read every manifest."""
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        )
    if value is None or isinstance(value, str | int | bool):
        return value
    if depth > 64:
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _strict_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v, depth + 1) for v in value]
    return repr(value)


#: The sections a producer fills freely; the writer's own sections are plain JSON already.
_FREE_SECTIONS = ("task", "origin")


def manifest_json(manifest: dict[str, Any]) -> bytes:
    """The manifest as strict JSON, by json's C encoder (no indent: it runs only without).

    Only the free sections are walked in Python; should anything else hold a
    value JSON has no type for, the whole manifest is walked.
    """
    shallow = {k: _strict_json(v) if k in _FREE_SECTIONS else v for k, v in manifest.items()}
    try:
        text = _ENCODER.encode(shallow)
    except (TypeError, ValueError, RecursionError):
        text = _ENCODER.encode(_strict_json(manifest))
    return text.encode()


# Compact separators: json's C encoder takes half the time without the spaces
# (17 -> 9 ms for the 580 KB manifest of a recursion 900 deep).  No cycle check:
# the writer's sections are built here, the free ones walked by _strict_json
# (a cycle there is cut at depth 64), and a RecursionError falls back anyway.
_ENCODER = json.JSONEncoder(
    allow_nan=False, ensure_ascii=False, check_circular=False, separators=(",", ":")
)


def final_manifest(
    base: dict[str, Any],
    store: PieceStore,
    sources_text: dict[str, str],
    *,
    signed: bool,
    pieces: bool,
    reason: str | None,
    redactor: Redactor,
    seconds: float,
) -> dict[str, Any]:
    """``base`` (the builder's sections) completed with what the store and sources hold.

    ``pieces=False`` is the manifest-only fallback: every stored piece becomes
    ``omitted`` with ``"left out: <reason>"``.
    """
    manifest = dict(base)
    records = {pid: p.record() for pid, p in store.pieces.items()}
    if not pieces:
        why = reason or "the full snapshot could not be written"
        for record in records.values():
            if record["status"] == STORED:
                record["status"] = OMITTED
                record["reason"] = f"left out: {why}"
                for field in ("member", "buffers", "refs", "size"):
                    record.pop(field, None)
    manifest["pieces"] = records
    manifest["buffers"] = (
        {bid: {"member": f"buffers/{bid}", "size": b.nbytes} for bid, b in store.buffers.items()}
        if pieces
        else {}
    )
    manifest["sources"] = {
        filename: source_entry(n, text)[1]
        for n, (filename, text) in enumerate(sources_text.items())
    }
    modules: dict[str, str | None] = {}
    for piece in store.pieces.values():
        if not piece.modules:  # a scalar, a builtin container: most pieces
            continue
        for name in sorted(top_level(set(piece.modules))):
            if name not in modules and not is_stdlib(name):
                modules[name] = module_version(name)
    manifest["modules"] = modules
    if "environment" not in manifest:  # the producer may have filled it already
        manifest["environment"] = environment_info(redactor=redactor)
    stored = [p for p in records.values() if p["status"] == STORED]
    manifest["capture"] = {
        "pieces": len(records),
        "stored": len(stored),
        "placeholders": sum(1 for p in records.values() if p["status"] != STORED),
        "stored_bytes": store.total if pieces else 0,
        # Harmless placeholders (live resources outside the call) lose nothing.
        "complete": pieces and all(p.status == STORED or p.harmless for p in store.pieces.values()),
        "seconds": round(seconds, 6),
        "limits": {
            "max_piece_bytes": store.limits.max_piece_bytes,
            "max_total_bytes": store.limits.max_total_bytes,
        },
        "redaction_marker": REDACTED,
    }
    manifest["signed"] = signed
    return manifest


def top_level(modules: set[str]) -> set[str]:
    """``{"numpy.core.multiarray", "os"}`` -> ``{"numpy", "os"}``."""
    return {m.split(".", 1)[0] for m in modules if m}
