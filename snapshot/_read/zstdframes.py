"""A structural walk over the zstd frames of a file, without decompressing.

python-zstandard's stream reader reports a truncated file as a clean end of
data, and it trusts nothing we need to check up front.  Walking the frame and
block headers (RFC 8878, section 3.1) costs a few bytes of I/O per 128 KiB
block and tells us, before any decompression, that every frame is complete,
carries a checksum, and declares no absurd size.
"""

from __future__ import annotations

from typing import IO

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE_LOW, _SKIPPABLE_HIGH = 0x184D2A50, 0x184D2A5F
_FCS_SIZES = (0, 2, 4, 8)
_DICT_SIZES = (0, 1, 2, 4)


class FrameProblem(Exception):
    """What is wrong, in words.

    ``truncated`` tells an early end from damage; ``over_limit`` a declared size
    above the reader's limit (a likely bomb) from damage.
    """

    def __init__(self, message: str, *, truncated: bool = False, over_limit: bool = False) -> None:
        super().__init__(message)
        self.truncated = truncated
        self.over_limit = over_limit


def _read_exact(fh: IO[bytes], n: int, what: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise FrameProblem(f"the file ends inside {what}", truncated=True)
    return data


def frame_header(fh: IO[bytes]) -> tuple[int | None, bool]:
    """Parse one frame header at the current position: (declared size or None, checksum flag)."""
    magic = _read_exact(fh, 4, "a zstd frame header")
    number = int.from_bytes(magic, "little")
    if _SKIPPABLE_LOW <= number <= _SKIPPABLE_HIGH:
        raise FrameProblem("skippable zstd frames are not allowed in a snapshot")
    if magic != ZSTD_MAGIC:
        raise FrameProblem(f"bad zstd frame magic {magic!r}")
    descriptor = _read_exact(fh, 1, "a zstd frame header")[0]
    fcs_flag = descriptor >> 6
    single_segment = bool(descriptor & 0x20)
    if descriptor & 0x08:
        raise FrameProblem("reserved bit set in a zstd frame header")
    checksum = bool(descriptor & 0x04)
    dict_size = _DICT_SIZES[descriptor & 0x03]
    fcs_size = _FCS_SIZES[fcs_flag] if (fcs_flag or not single_segment) else 1
    rest = _read_exact(fh, (0 if single_segment else 1) + dict_size + fcs_size, "a frame header")
    if dict_size and any(rest[(0 if single_segment else 1) :][:dict_size]):
        raise FrameProblem("the zstd frame needs a dictionary; snapshots never use one")
    declared: int | None = None
    if fcs_size:
        declared = int.from_bytes(rest[-fcs_size:], "little")
        if fcs_size == 2:
            declared += 256
    return declared, checksum


#: The most one block can decompress to (RFC 8878, Block_Maximum_Size).
MAX_BLOCK_CONTENT = 128 * 1024


def walk_frames(fh: IO[bytes], file_size: int, max_declared: int) -> tuple[int, int]:
    """Check every frame from the current position to the end.

    Returns the frame count and an upper bound on the decompressed content:
    raw and RLE blocks state their size, a compressed block yields at most
    128 KiB.  A reader can then trust a tar header's member size as far as
    this bound, and no further.
    """
    frames = 0
    bound = 0
    while fh.tell() < file_size:
        declared, checksum = frame_header(fh)
        if declared is not None and declared > max_declared:
            raise FrameProblem(
                f"a zstd frame declares {declared} bytes of content, above the read limit "
                f"of {max_declared}; refusing to decompress it",
                over_limit=True,
            )
        if not checksum:
            raise FrameProblem("a zstd frame has no content checksum; snapshots always carry one")
        while True:
            header = int.from_bytes(_read_exact(fh, 3, "a zstd block header"), "little")
            last, block_type, size = header & 1, (header >> 1) & 3, header >> 3
            if block_type == 3:
                raise FrameProblem("reserved zstd block type")
            skip = 1 if block_type == 1 else size
            bound += MAX_BLOCK_CONTENT if block_type == 2 else size
            if fh.tell() + skip > file_size:
                raise FrameProblem("the file ends inside a zstd block", truncated=True)
            fh.seek(skip, 1)
            if last:
                break
        _read_exact(fh, 4, "a zstd frame checksum")
        frames += 1
    return frames, bound


def first_frame(fh: IO[bytes], file_size: int, max_bytes: int) -> tuple[int, int] | None:
    """(compressed length, content bound) of the frame at the current position, when it
    is complete and at most ``max_bytes`` long; else None (the caller reads it as a stream).

    The same walk as :func:`walk_frames`, over one frame: a frame it finds wrong in any
    way is left to the stream reader, which says what is wrong.  So is one whose header
    declares more content than its blocks can hold: a one-call ``decompress`` allocates
    what the header declares, whatever ``max_output_size`` says (writers never declare it).
    """
    start = fh.tell()
    try:
        declared, checksum = frame_header(fh)
        bound = 0
        while True:
            header = int.from_bytes(_read_exact(fh, 3, "a zstd block header"), "little")
            last, block_type, size = header & 1, (header >> 1) & 3, header >> 3
            if block_type == 3:
                return None
            skip = 1 if block_type == 1 else size
            bound += MAX_BLOCK_CONTENT if block_type == 2 else size
            if fh.tell() + skip - start > max_bytes or fh.tell() + skip > file_size:
                return None
            fh.seek(skip, 1)
            if last:
                break
    except FrameProblem:
        return None
    end = fh.tell() + (4 if checksum else 0)
    if not checksum or end > file_size or end - start > max_bytes:
        return None
    if declared is not None and declared > bound:
        return None
    return end - start, bound
