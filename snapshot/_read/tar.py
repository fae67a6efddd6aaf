"""The tar layer, read by hand over the decompressed stream (spec, sections 3.3 and 8.4).

Every rule about members lives here once: regular files with safe relative
names only, ``manifest.json`` first and within its limit, no duplicates,
nothing after ``signature.json``, counts and sizes within :class:`ReadLimits`,
and zeros only after the end of the archive.  Nothing is ever extracted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import SnapshotFormatError, SnapshotLimitError, SnapshotTruncatedError
from .._format import MANIFEST_MEMBER, SIGNATURE_MEMBER
from .._limits import ReadLimits

#: The member name grammar of spec 3.4, ``[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*`` whole
#: (:func:`safe_name`: string methods, as compiling the pattern costs ``info`` 0.5 M
#: instructions).
SAFE_NAME = r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*"
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-/")
BLOCK = 512
_ZEROS = bytes(BLOCK)
#: Typeflags (POSIX): regular file, its pre-POSIX spelling, pax extended header.
_REGULAR = (b"0", b"\0")
_PAX = b"x"
_MAX_PAX = 1 << 20
#: Members from this size up get fresh pages from the kernel instead of a bytearray.
_MAP_FROM = 1 << 20


def over_total(path: str, limits: ReadLimits, where: str = "") -> SnapshotLimitError:
    """The one message for content beyond ``max_total_bytes``."""
    return SnapshotLimitError(
        f"{path}: decompressed content exceeds the read limit of {limits.max_total_bytes} "
        f"bytes{where}; if the snapshot is genuine, raise ReadLimits.max_total_bytes",
        path=path,
    )


def truncated(path: str) -> SnapshotTruncatedError:
    return SnapshotTruncatedError(
        f"{path}: the snapshot ends early (the tar archive inside is cut short); "
        "the file was probably truncated while being copied: copy it again",
        path=path,
    )


class TarReader:
    """Sequential reader of the tar layer over a decompressed stream (``readinto``/``read``).

    ``bound`` is what the frames can decompress to at most (from the frame walk),
    or None; within it a member's declared size may be allocated at once.
    """

    def __init__(
        self, stream: Any, path: str, limits: ReadLimits, bound: int | None = None
    ) -> None:
        self.stream = stream
        self.path = path
        self.limits = limits
        self.bound = bound
        self.total = 0
        self.names: set[str] = set()
        self.signed = False
        self._header = bytearray(BLOCK)  # each header is read into it: no allocation
        self._header_view = memoryview(self._header)

    def _count(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise over_total(self.path, self.limits)

    def _read_into(self, view: memoryview) -> None:
        filled = 0
        while filled < len(view):
            n = self.stream.readinto(view[filled:])
            if not n:
                raise truncated(self.path)
            filled += n
        self._count(len(view))

    def _read(self, n: int) -> bytes:
        buf = bytearray(n)
        self._read_into(memoryview(buf))
        return bytes(buf)

    def next(self) -> tuple[str, int] | None:
        """The next member's (name, size), every rule checked; None at the end of the archive."""
        pax: dict[str, str] = {}
        while True:
            self._read_into(self._header_view)
            block = self._header
            if block == _ZEROS:
                if not self.names:
                    raise SnapshotFormatError(
                        f"{self.path}: the archive is empty: no manifest.json; not a snapshot",
                        path=self.path,
                    )
                return None
            name, size, kind = parse_header(block, self.path)
            if kind == _PAX:
                if size > _MAX_PAX:
                    raise SnapshotLimitError(
                        f"{self.path}: a pax header of {size} bytes (at most {_MAX_PAX})",
                        path=self.path,
                    )
                pax.update(_parse_pax(self._read(padded(size))[:size], self.path))
                continue
            name = pax.get("path", name)
            size = _pax_size(pax["size"], self.path) if "size" in pax else size
            self._check(name, size, kind)
            return name, size

    def _check(self, name: str, size: int, kind: bytes) -> None:
        path, limits = self.path, self.limits
        if kind not in _REGULAR:
            raise SnapshotFormatError(
                f"{path}: member {name!r} is not a regular file (tar type {kind!r}); "
                "snapshots hold regular files only",
                path=path,
            )
        if not safe_name(name) or ".." in name.split("/"):
            raise SnapshotFormatError(
                f"{path}: unsafe member name {name!r}; this is not a dask-replay snapshot, "
                "or it was tampered with",
                path=path,
            )
        if not self.names and name != MANIFEST_MEMBER:
            raise SnapshotFormatError(
                f"{path}: the first member is {name!r}, not manifest.json; not a dask-replay "
                "snapshot",
                path=path,
            )
        if name in self.names:
            raise SnapshotFormatError(f"{path}: duplicate member {name!r}", path=path)
        if self.signed:
            raise SnapshotFormatError(f"{path}: a member follows the signature", path=path)
        if len(self.names) >= limits.max_members:
            raise SnapshotLimitError(
                f"{path}: more than {limits.max_members} members (ReadLimits.max_members)",
                path=path,
            )
        if name == MANIFEST_MEMBER and size > limits.max_manifest_bytes:
            raise SnapshotLimitError(
                f"{path}: manifest.json is {size} bytes, above the read limit "
                f"(ReadLimits.max_manifest_bytes={limits.max_manifest_bytes})",
                path=path,
            )
        if size > limits.max_member_bytes or size + self.total > limits.max_total_bytes:
            raise SnapshotLimitError(
                f"{path}: member {name!r} declares {size} bytes, above the read limit "
                f"(ReadLimits.max_member_bytes={limits.max_member_bytes}, "
                f"max_total_bytes={limits.max_total_bytes})",
                path=path,
            )
        self.names.add(name)
        self.signed = name == SIGNATURE_MEMBER

    def data(self, size: int) -> Any:
        """The member's data, whole (a bytearray, or an anonymous mapping when large)."""
        if self.bound is not None:
            # The frame walk bounds what the file can hold: a member within it
            # is read straight into its final buffer, zstd writing into it (one
            # copy); one beyond it cannot be complete.
            if self.total + size > self.bound:
                raise truncated(self.path)
            buf = _allocate(size)
            self._read_into(memoryview(buf))
        else:
            buf = self.prefix(size, size)
        self._skip_padding(size)
        return buf

    def skip(
        self, size: int, each: Callable[[Any], None] | None = None, step: int = 1 << 20
    ) -> None:
        """Read past a member of ``size`` bytes and its padding without holding it:
        decompressed in steps into one small buffer (zstd still checks it), each
        step handed to ``each`` (the signature's hash), then dropped."""
        if size < step and each is None:  # small: data and padding in one read
            self._read_into(memoryview(bytearray(padded(size))))
            return
        buf = bytearray(min(step, size))
        view = memoryview(buf)
        left = size
        while left:
            part = view[: min(len(buf), left)]
            self._read_into(part)
            if each is not None:
                each(part)
            left -= len(part)
        self._skip_padding(size)

    def prefix(self, size: int, keep: int) -> Any:
        """The first ``keep`` bytes of a member of ``size`` (all of it when equal).

        Without a frame walk's bound the declared size is a claim: a 300-byte
        file may declare 3 GiB.  Only ``keep`` (bounded by a limit of ours) is
        reserved, and from 1 MiB up as an anonymous mapping, whose pages cost
        memory only as data arrives.  With ``keep < size`` the stream is left
        inside the member: reading stops there.
        """
        buf = _allocate(keep)
        self._read_into(memoryview(buf))
        return buf

    def _skip_padding(self, size: int) -> None:
        pad = padded(size) - size
        if pad:
            self._read(pad)

    def finish(self, chunk: int = 1 << 20) -> None:
        """Read what follows the end-of-archive block: zeros only, counted like the rest.

        Reading it lets zstd verify the last frame's checksum; a stream of zeros
        is the cheapest decompression bomb, hence the count.
        """
        while True:
            rest = self.stream.read(chunk)
            if not rest:
                return
            self.total += len(rest)
            if self.total > self.limits.max_total_bytes:
                raise over_total(self.path, self.limits, " (padding after the end of the archive)")
            if rest.count(0) != len(rest):
                raise SnapshotFormatError(
                    f"{self.path}: data after the end of the archive", path=self.path
                )


_LOW = bytes(range(128))


def _signed_sum(block: bytes | bytearray) -> int:
    """The sum of a header's bytes as signed chars, its checksum field left out (old tars)."""
    rest = bytes(block[:148]) + bytes(block[156:512])
    return sum(rest) - 256 * len(rest.translate(None, _LOW))


def parse_header(block: bytes | bytearray, path: str) -> tuple[str, int, bytes]:
    """(name, size, typeflag) of a ustar header, its checksum verified (spec 3.3).

    Only the fields the spec gives meaning to are read (name with the POSIX
    prefix, size, typeflag, checksum), as ``tarfile.TarInfo.frombuf`` reads
    them, at a tenth of its cost: ``list`` reads one header per file.
    """
    stored = _number(block[148:156], path, "checksum")
    # The checksum field counts as 8 spaces (256).  Some old tars summed signed
    # bytes: computed only when the unsigned sum does not match.
    if stored != 256 + _byte_sum(block) - sum(block[148:156]) and stored != 256 + _signed_sum(
        block
    ):
        raise SnapshotFormatError(
            f"{path}: damaged tar header (bad checksum); the file is corrupt", path=path
        )
    name = _text(block[0:100])
    kind = bytes(block[156:157])
    size = _number(block[124:136], path, "size")
    if size < 0:
        raise SnapshotFormatError(f"{path}: damaged tar header (a negative size)", path=path)
    prefix = _text(block[345:500]) if block[345] else ""  # whatever the magic says, as tarfile
    if prefix and kind not in (b"L", b"K", b"S"):
        name = prefix + "/" + name
    return name, size, kind


def safe_name(name: str) -> bool:
    """Whether ``name`` is all of :data:`SAFE_NAME`: path segments of those characters,
    none empty."""
    return (
        _NAME_CHARS.issuperset(name)
        and "//" not in name
        and name[:1] not in ("", "/")
        and not name.endswith("/")
    )


#: Headers summed by ``sum`` before :func:`_byte_sum` loads zlib, whose import costs
#: as much as summing some 80 headers: ``info`` of a snapshot reads about ten.
_SUMMED_HEADERS = 64
_summed = 0
_adler32: Callable[[Any], int] | None = None


def _byte_sum(block: bytes | bytearray) -> int:
    """The sum of a header's 512 bytes, from the Adler-32 of each half: its low 16
    bits are 1 plus the half's byte sum modulo 65521, and 256 bytes sum to at most
    65280, so the modulo never applies.  A quarter of ``sum(block)``'s cost, which
    counts when ``info`` walks 100,000 headers."""
    global _summed, _adler32
    if _adler32 is None:
        if _summed < _SUMMED_HEADERS:
            _summed += 1
            return sum(block)
        from zlib import adler32

        _adler32 = adler32
    view = memoryview(block)
    return (_adler32(view[:256]) & 0xFFFF) + (_adler32(view[256:]) & 0xFFFF) - 2


def _text(field: bytes | bytearray) -> str:
    end = field.find(b"\0")
    return (field if end < 0 else field[:end]).decode("utf-8", "surrogateescape")


def _number(field: bytes | bytearray, path: str, what: str) -> int:
    """An octal field, or GNU base-256 (first byte 0x80 or 0xff), as tarfile reads them."""
    if field[-1:] == b"\0" and field[:-1].isdigit():  # the usual "%07o\0": fast path
        try:
            return int(field[:-1], 8)
        except ValueError:  # an 8 or a 9: said below
            pass
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - (256 ** (len(field) - 1)) if field[:1] == b"\xff" else value
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not digits:
        return 0
    if digits.strip(b"01234567"):
        raise SnapshotFormatError(
            f"{path}: damaged tar header (its {what} field is not a number); the file is corrupt",
            path=path,
        )
    return int(digits, 8)


def _allocate(size: int) -> Any:
    """A writable buffer of ``size`` bytes for zstd to decompress into.

    ``bytearray(n)`` zero-fills its memory before zstd overwrites it, touching
    every page twice; an anonymous mapping is zeroed by the kernel page by page
    as zstd first writes it.  On 512 MiB that saves some 0.2 s, and the
    unpickled numpy array then lives on these pages without a copy.
    """
    if size < _MAP_FROM:
        return bytearray(size)
    import mmap  # here: ``info`` and ``list`` read no member this large

    mapped = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            mapped.madvise(mmap.MADV_HUGEPAGE)  # fewer page faults where THP is on
        except OSError:
            pass
    return mapped


def padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _pax_size(text: str, path: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise SnapshotFormatError(f"{path}: damaged pax header: size {text[:40]!r}", path=path)
    return int(text)


def _parse_pax(data: bytes, path: str) -> dict[str, str]:
    """``"<length> <key>=<value>\\n"`` records (POSIX pax extended header)."""
    out = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        digits = data[pos:space] if space > pos else b""
        if not (digits.isdigit() and len(digits) <= 7):
            raise SnapshotFormatError(f"{path}: damaged pax header", path=path)
        length = int(digits)
        if length <= space + 1 - pos or pos + length > len(data):
            raise SnapshotFormatError(f"{path}: damaged pax header", path=path)
        record = data[space + 1 : pos + length - 1].decode("utf-8", "surrogateescape")
        key, _, value = record.partition("=")
        out[key] = value
        pos += length
    return out
