"""A small hostile file within the default read limits: a few hundred KiB, 4 GiB inside.

Made the way ``tests/snapshot/crafting.py`` makes hostile inputs, with the
standard library's ``tarfile`` headers and ``zstandard`` directly, never with
the writer: a valid manifest in a first zstd frame of its own (as the writer
lays it out), then one stored piece whose in-band pickle is just under
``ReadLimits().max_member_bytes`` (4 GiB by default) of import opcodes:
``SHORT_BINUNICODE 'os'``, ``SHORT_BINUNICODE 'system'``, ``STACK_GLOBAL``,
``POP``, over and over, then ``NONE``, ``STOP``.  Every byte is a valid opcode
and every 14 bytes name a module: the worst case for a truthful import scan.
Streamed (16 MiB at a time): making it never holds more than that in memory.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ._workspace import Workspace

PATTERN = b"\x8c\x02os\x8c\x06system\x930"  # 'os' 'system' STACK_GLOBAL POP
CHUNK = 16 * 2**20


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    return info.tobuf(tarfile.PAX_FORMAT)


def _pad(size: int) -> bytes:
    return b"\0" * (-size % 512)


def manifest(member_size: int) -> dict[str, object]:
    return {
        "format": "dask-replay-snapshot",
        "format_version": "1.0",
        "created": "2026-12-02T00:00:00+00:00",
        "task": {"key": "crafted-0", "prefix": "crafted"},
        "error": {"type": "ValueError", "module": "builtins", "message": "crafted"},
        "call": {"func": "p0", "args": [], "kwargs": {}},
        "pieces": {
            "p0": {
                "label": "call.func",
                "status": "stored",
                "type": "builtins.function",
                "repr": "<function crafted>",
                "size": member_size,
                "member": "pieces/p0.pkl",
                "buffers": [],
                "modules": ["math"],  # the writer's claim; the opcodes say os
            }
        },
        "buffers": {},
        "sources": {},
        "frames": [],
    }


def member_size(ws: Workspace) -> int:
    """The piece's size: just under the default read limit (256 KiB in a smoke run)."""
    import snapshot

    if ws.scale.smoke:
        return 256 * 2**10
    return min(4 * 2**30, snapshot.ReadLimits().max_member_bytes) - 1024


def crafted_snapshot(ws: Workspace) -> Path:
    """The run's crafted file (``member_size``): made once, for every section that reads it."""
    member = member_size(ws)
    key = ("crafted", member)
    path = ws.snapshots.get(key)
    if path is None or not path.exists():
        ws.log(f"crafting a file that expands to {member / 2**20:.0f} MiB")
        path = ws.snapshots[key] = write(ws.fresh_dir("crafted") / "crafted.tar.zst", member)
    return path


def write(path: Path, member_size: int) -> Path:
    """Write the crafted snapshot to ``path``; ``member_size`` is the piece's size in bytes."""
    import zstandard

    compressor = zstandard.ZstdCompressor(level=1, write_checksum=True)
    head = json.dumps(manifest(member_size)).encode()
    body = member_size - 2 - 2  # PROTO 5 ... NONE STOP
    with path.open("wb") as fh:
        _frame(compressor, fh, [_header("manifest.json", len(head)), head, _pad(len(head))])
        with compressor.stream_writer(fh, closefd=False) as w:
            w.write(_header("pieces/p0.pkl", member_size))
            w.write(b"\x80\x05")
            chunk = PATTERN * (CHUNK // len(PATTERN))
            left = body
            while left >= len(PATTERN):  # whole patterns only: every opcode stays whole
                step = min(left, len(chunk))
                step -= step % len(PATTERN)
                w.write(chunk[:step])
                left -= step
            w.write(b"N" * left + b"N.")
            w.write(_pad(member_size) + b"\0" * 1024)  # end of archive: two zero blocks
    return path


def _frame(compressor: object, fh: IO[bytes], parts: list[bytes]) -> None:
    with compressor.stream_writer(fh, closefd=False) as w:  # type: ignore[attr-defined]
        for part in parts:
            w.write(part)
