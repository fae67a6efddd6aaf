"""Hand-made archives for hostile-input tests: tar streams and zstd frames.

Everything here is built with the standard library's ``tarfile`` and with
``zstandard`` directly, never with the writer under test, so that a test can
make exactly the damage it describes.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import zstandard

MANIFEST = {"format": "dask-replay-snapshot", "format_version": "1.0"}


def manifest_bytes(**fields: Any) -> bytes:
    return json.dumps({**MANIFEST, **fields}).encode()


def member(name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, **attrs: Any) -> tuple:
    """A member for :func:`tar_bytes`: name, data, tar type, extra TarInfo attributes."""
    return (name, data, kind, attrs)


def tar_bytes(
    members: Iterable[tuple], *, fmt: int = tarfile.PAX_FORMAT, trailing: bytes = b""
) -> bytes:
    """A tar archive of ``members``; links and special files get no data."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for name, data, kind, attrs in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            for attr, value in attrs.items():
                setattr(info, attr, value)
            if kind in (tarfile.REGTYPE, tarfile.AREGTYPE):
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return out.getvalue() + trailing


def compress(raw: bytes, *, checksum: bool = True, content_size: bool = False) -> bytes:
    """One zstd frame (streamed, so that it declares no size unless asked)."""
    compressor = zstandard.ZstdCompressor(
        level=3, write_checksum=checksum, write_content_size=content_size
    )
    if content_size:
        return compressor.compress(raw)
    out = io.BytesIO()
    with compressor.stream_writer(out, closefd=False) as writer:
        writer.write(raw)
    return out.getvalue()


def write_archive(path: Path, members: Iterable[tuple], **kwargs: Any) -> Path:
    path.write_bytes(compress(tar_bytes(members, **kwargs)))
    return path


def forged_frame(declared: int, *, checksum: bool = True) -> bytes:
    """A zstd frame header that declares ``declared`` bytes, then one empty last block.

    Single-segment, 8-byte Frame_Content_Size: 4 + 1 + 8 + 3 (+ 4) bytes.
    """
    descriptor = 0b1110_0000 | (0b100 if checksum else 0)
    block = (1).to_bytes(3, "little")  # last block, raw, size 0
    frame = b"\x28\xb5\x2f\xfd" + bytes([descriptor]) + declared.to_bytes(8, "little") + block
    return frame + (b"\0\0\0\0" if checksum else b"")


def rle_frame(blocks: int, byte: int = 0, *, checksum: bool = True) -> bytes:
    """A zstd frame of ``blocks`` RLE blocks, each 4 bytes expanding to 128 KiB.

    2**19 blocks: 2 MiB that decompress to 64 GiB.  The checksum is a dummy:
    a reader that reaches it has already expanded everything.  Without ``checksum``
    the frame is valid: its content is exactly ``blocks`` times 128 KiB of ``byte``.
    """
    size = 128 * 1024
    block = ((size << 3) | (1 << 1)).to_bytes(3, "little") + bytes([byte])
    final = ((size << 3) | (1 << 1) | 1).to_bytes(3, "little") + bytes([byte])
    # Frame_Header_Descriptor 0x04: checksum, no size; Window_Descriptor 0x38: 128 KiB.
    if not checksum:  # Frame_Header_Descriptor 0x00: no checksum, no size
        return b"\x28\xb5\x2f\xfd\x00\x38" + block * (blocks - 1) + final
    return b"\x28\xb5\x2f\xfd\x04\x38" + block * (blocks - 1) + final + b"\0\0\0\0"


def decompress(path: Path) -> bytes:
    """The whole tar stream of a file written by the writer (all frames)."""
    with path.open("rb") as fh:
        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        return reader.read()


def members_of(path: Path) -> list[tuple[str, bytes]]:
    """(name, data) of every member, read with ``tarfile`` (not the reader under test)."""
    with tarfile.open(fileobj=io.BytesIO(decompress(path))) as tar:
        out = []
        for info in tar.getmembers():
            fh = tar.extractfile(info)
            assert fh is not None
            out.append((info.name, fh.read()))
        return out


def frame_ends(data: bytes) -> list[int]:
    """The offsets at which each zstd frame of ``data`` ends."""
    ends = []
    rest = data
    while rest:
        obj = zstandard.ZstdDecompressor().decompressobj()
        obj.decompress(rest)
        consumed = len(rest) - len(obj.unused_data)
        ends.append(len(data) - len(rest) + consumed)
        rest = obj.unused_data
    return ends


def bomb(path: Path, size: int, *, byte: bytes = b"N", member_name: str = "pieces/p0.pkl") -> Path:
    """A snapshot whose one stored piece declares ``size`` bytes and holds them: ``byte``
    repeated, in RLE blocks (4 bytes of file per 128 KiB), so that a few hundred KiB of
    file expand to gigabytes within the default read limits.

    The piece's pickle is ``PROTO 5`` then ``byte`` repeated (``N``: NONE, the cheapest
    opcode); no STOP is ever reached.
    """
    record = {"label": "call.func", "status": "stored", "type": "x", "repr": "", "size": size}
    manifest = manifest_bytes(
        pieces={"p0": {**record, "member": member_name, "buffers": [], "modules": []}},
        call={"func": "p0", "args": [], "kwargs": {}},
        buffers={},
        sources={},
    )
    head = tar_bytes([member("manifest.json", manifest)])[: 512 + -(-len(manifest) // 512) * 512]
    info = tarfile.TarInfo(member_name)
    info.size = size
    start = head + info.tobuf(tarfile.PAX_FORMAT) + b"\x80\x05"
    blocks = (size - 2) // (128 * 1024)
    with path.open("wb") as fh:
        fh.write(compress(start))
        fh.write(rle_frame(blocks, byte[0]))
    return path


def json_bomb(path: Path, values: int) -> Path:
    """A snapshot whose manifest holds ``values`` empty lists: 3 bytes of text, some 64
    bytes of Python objects each (a few KiB of zstd)."""
    manifest = manifest_bytes()[:-1] + b', "x": [' + b"[]," * (values - 1) + b"[]]}"
    return write_archive(path, [member("manifest.json", manifest)])


def with_extra_member(path: Path, source: Path, name: str, size: int) -> Path:
    """``source`` (a snapshot) with one more member ``name`` of ``size`` zero bytes that
    nothing references, appended last, in a frame of its own: zstd stores zeros as RLE
    blocks, so a GiB costs a few dozen KiB of file (about a second to write)."""
    members = [member(n, d) for n, d in members_of(source)]
    body = tar_bytes(members, fmt=tarfile.USTAR_FORMAT)
    body = body[: _archive_end(body)]
    info = tarfile.TarInfo(name)
    info.size = size
    with path.open("wb") as fh:
        fh.write(compress(body + info.tobuf(tarfile.USTAR_FORMAT)))
        with zstandard.ZstdCompressor(level=1, write_checksum=True).stream_writer(
            fh, closefd=False
        ) as writer:
            zeros = bytes(1 << 20)
            for start in range(0, size, len(zeros)):
                writer.write(zeros[: min(len(zeros), size - start)])
        fh.write(compress(bytes(1024)))
    return path


def with_many_members(path: Path, source: Path, count: int, *, prefix: str = "pieces/") -> Path:
    """``source`` (a snapshot) with ``count`` more small members under ``prefix`` that
    nothing references, after its own pieces and before its buffers (headers made with
    ``tarfile.TarInfo.tobuf``, as ``tarfile`` would write them, at a tenth of its cost)."""
    own = members_of(source)
    data = b"\x80\x05N."
    padding = bytes(-len(data) % 512)

    def raw(name: str, content: bytes) -> bytes:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        return info.tobuf(tarfile.USTAR_FORMAT) + content + bytes(-len(content) % 512)

    template = raw(f"{prefix}extra0.pkl", data)
    parts = [raw(n, d) for n, d in own if not n.startswith("buffers/")]
    for i in range(count):
        info = tarfile.TarInfo(f"{prefix}extra{i}.pkl")
        info.size = len(data)
        parts.append(info.tobuf(tarfile.USTAR_FORMAT) + data + padding)
    parts += [raw(n, d) for n, d in own if n.startswith("buffers/")]
    assert len(template) == 1024
    path.write_bytes(compress(b"".join(parts) + bytes(1024)))
    return path


def _archive_end(raw: bytes) -> int:
    """Where the end-of-archive zeros of a tar stream begin (its members' end)."""
    pos = 0
    while pos + 512 <= len(raw) and raw[pos : pos + 512] != bytes(512):
        size = int(raw[pos + 124 : pos + 136].split(b"\0", 1)[0].strip() or b"0", 8)
        pos += 512 + -(-size // 512) * 512
    return pos
