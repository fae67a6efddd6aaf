"""The manifest of a snapshot the hook wrote, read the benchmark's own way.

``tarfile`` and ``zstandard`` directly: the benchmark checks what the hook wrote
without depending on the reader's API, which changes while it is measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest (the first tar member), read with ``tarfile`` and ``zstandard``: the
    benchmark checks what the hook wrote without depending on the reader's API."""
    import json
    import tarfile

    import zstandard

    with path.open("rb") as fh:
        stream = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            first = tar.next()
            if first is None or first.name != "manifest.json":
                raise RuntimeError(f"{path}: the first member is not manifest.json")
            member = tar.extractfile(first)
            if member is None:
                raise RuntimeError(f"{path}: manifest.json is not a file")
            manifest: dict[str, Any] = json.loads(member.read())
    return manifest


def manifest_facts(path: Path) -> dict[str, Any]:
    """What a capture row checks in the snapshot it times: complete, and what was left out."""
    manifest = read_manifest(path)
    capture, pieces = manifest.get("capture"), manifest.get("pieces")
    capture = capture if isinstance(capture, dict) else {}
    pieces = pieces if isinstance(pieces, dict) else {}
    left = [
        f"{rec.get('label')}: {rec.get('status')} ({str(rec.get('reason', ''))[:120]})"
        for rec in pieces.values()
        if isinstance(rec, dict) and rec.get("status") != "stored"
    ]
    return {"complete": bool(capture.get("complete")), "left_out": left}
