"""Opening snapshots: the manifest alone (``read_manifest``) or the members (``open_snapshot``).

Untrusted input is the normal case: a file copied off a cluster, maybe cut
short, maybe from someone else.  Limits come first (the frame walk, then the
read limits while decompressing), integrity always (checksums, declared sizes,
the HMAC before anything can be unpickled), and nothing is unpickled here.
Foreign errors are translated by the table of :mod:`.translate`; anything else is
a bug and is not dressed up as a damaged file.
"""

from __future__ import annotations

import contextlib
import io
import os
from _thread import get_ident
from typing import IO, TYPE_CHECKING, Any

import zstandard

from .._errors import SnapshotError, SnapshotFormatError, SnapshotLimitError, SnapshotVersionError
from .._format import FORMAT_NAME, FORMAT_VERSION, MANIFEST_MEMBER, SIGNATURE_MEMBER, version_major
from .._limits import MiB, ReadLimits
from .._model.manifest import Manifest
from .._model.parsing import parse_manifest
from .file import (
    READ_CHUNK,
    CountingFile,
    Progress,
    check_start,
    content_bound,
    decompressing,
    file_size,
    open_file,
)
from .snapshot import BUFFER_PREFIX, Head, Snapshot
from .tar import TarReader
from .translate import load_json, translated
from .zstdframes import first_frame

if TYPE_CHECKING:
    from .signing import Signing

SUPPORTED_MAJOR = int(FORMAT_VERSION.split(".")[0])
_DEFAULT_LIMITS = ReadLimits()
#: How far past manifest.json read_manifest looks for the end of the first frame.
_MANIFEST_FRAME_SLACK = 64 * 1024
#: The most the first frame may decompress to (a compressed block: at most 128 KiB) for
#: read_manifest to read it in one call.
_MANIFEST_FRAME_BOUND = 2 * 128 * 1024
#: The compressed bytes a head-only open asks for at a time.
_HEAD_READ = 64 * 1024
#: What decoding a manifest may cost beyond 8 times its size (see _check_shape).
_MANIFEST_MEMORY = 64 * MiB


def read_manifest(
    path: str | os.PathLike[str],
    *,
    limits: ReadLimits | None = None,
    fileobj: IO[bytes] | None = None,
) -> dict[str, Any]:
    """Return the manifest, decompressing only as far as it; never unpickles.

    Its cost does not depend on the snapshot's size.  The first zstd frame,
    which holds only the manifest in files from this writer, is read to its end
    so that its checksum is verified; the rest of the file is checked only by
    :func:`open_snapshot`.  ``fileobj``: see :func:`open_snapshot`.
    """
    limits = limits or _DEFAULT_LIMITS
    name = os.fspath(path)
    with _opened(name, fileobj) as fh, translated(name):
        check_start(fh, name, limits)
        data = _manifest_of_small_frame(fh, name, limits)
        if data is not None:
            return decode_manifest(data, name)
        fh.seek(0)
        stream = decompressing(fh, across_frames=False, read_size=64 * 1024)
        tar = TarReader(stream, name, limits)
        first = tar.next()
        assert first is not None  # TarReader refuses an archive without manifest.json
        data = tar.data(first[1])
        _finish_first_frame(stream)
    return decode_manifest(data, name)


def _manifest_of_small_frame(fh: IO[bytes], name: str, limits: ReadLimits) -> Any:
    """``manifest.json``'s bytes when the first frame is small and holds all of it
    (as writers make it, rule 8.7): that frame read and decompressed in one call each,
    its checksum verified, its tar header checked by the one :class:`TarReader`.
    ``list`` reads thousands of manifests: the stream reader's set-up and its reads
    in steps were a third of each one's cost.  None: read it as a stream (a large or
    odd first frame, a manifest that goes on in the next frame, anything wrong, which
    the stream reader then reports as it always has)."""
    found = first_frame(fh, file_size(fh), _MANIFEST_FRAME_SLACK)
    if found is None or found[1] > _MANIFEST_FRAME_BOUND:
        return None
    length, bound = found
    fh.seek(0)
    raw = fh.read(length)
    try:
        content = _decompressor().decompress(raw, max_output_size=bound)
        tar = TarReader(io.BytesIO(content), name, limits)
        first = tar.next()
        return None if first is None else tar.data(first[1])
    except (SnapshotError, zstandard.ZstdError):
        return None


_DECOMPRESSORS: dict[int, Any] = {}


def _decompressor() -> Any:
    """One zstd decompression context per thread (``list`` of a URL reads in threads),
    kept: making one costs as much as decompressing a manifest."""
    ident = get_ident()
    found = _DECOMPRESSORS.get(ident)
    if found is None:
        if len(_DECOMPRESSORS) > 64:
            _DECOMPRESSORS.clear()
        found = _DECOMPRESSORS[ident] = zstandard.ZstdDecompressor()
    return found


def read_model(path: str | os.PathLike[str], *, limits: ReadLimits | None = None) -> Manifest:
    """The typed model of the manifest (:func:`read_manifest`, then :func:`parse_manifest`)."""
    return parse_manifest(read_manifest(path, limits=limits), path=os.fspath(path))


def _opened(name: str, fileobj: IO[bytes] | None) -> contextlib.AbstractContextManager[IO[bytes]]:
    """The file ``name`` (a regular file only), or the caller's ``fileobj``, left open."""
    return open_file(name) if fileobj is None else contextlib.nullcontext(fileobj)


def _sha256_hex(data: Any) -> str:
    """SHA-256 of a source member.  Small ones use CPython's built-in module, which
    hashlib itself falls back on: importing hashlib loads OpenSSL, about a tenth of
    ``info``'s start (measured with callgrind), and sources are mostly a few KiB."""
    if len(data) <= 256 * 1024:
        try:
            from _sha256 import sha256  # CPython 3.11
        except ImportError:
            try:
                from _sha2 import sha256  # CPython 3.12+
            except ImportError:
                from hashlib import sha256
    else:
        from hashlib import sha256
    return sha256(data).hexdigest()


def _finish_first_frame(stream: Any) -> None:
    """Read on to the end of the first zstd frame, if it is near: zstd then checks
    the frame's checksum, so the manifest just parsed is verified too.  Writers
    end the first frame right after manifest.json (spec: byte layout); a file
    that does not is read no further, keeping read_manifest's cost constant."""
    budget = _MANIFEST_FRAME_SLACK
    while budget > 0:
        chunk = stream.read(min(budget, 16 * 1024))
        if not chunk:
            return
        budget -= len(chunk)


def decode_manifest(data: Any, path: str) -> dict[str, Any]:
    """The manifest's JSON, its decoded size bounded first, its identity checked (rule 8.9)."""
    data = bytes(data)  # a large member may be an mmap
    _check_shape(data, path)
    manifest = load_json(data, path, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise SnapshotFormatError(
            f"{path}: not a dask-replay snapshot (manifest format is {_shown(found)})",
            path=path,
        )
    version = manifest.get("format_version")
    major = version_major(version)
    if major is None:
        raise SnapshotFormatError(f"{path}: bad format_version {_shown(version)}", path=path)
    major = major.lstrip("0") or "0"
    if len(major) > 9 or int(major) > SUPPORTED_MAJOR:
        raise SnapshotVersionError(
            f"{path}: written by snapshot format {_shown(version)[1:-1]}, but this reader "
            f"knows {SUPPORTED_MAJOR}.x; upgrade dask-replay (pip install -U dask-replay)",
            path=path,
        )
    return manifest


def _shown(value: object) -> str:
    """A value from the file, quoted and short (never ``repr`` of a huge integer)."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return "null" if value is None else f"of type {type(value).__name__}"


def _check_shape(data: bytes, path: str) -> None:
    """Refuse a manifest whose decoded form would be far larger than its text.

    ``[],[],...`` costs 3 bytes of text and some 64 bytes of Python objects: a
    few KiB of zstd make gigabytes.  Every JSON value but the first follows a
    ``,``, ``:`` or ``[``; each costs at most 72 bytes besides its characters
    (at most 4 bytes each).  Counting those bytes is C-speed and an upper bound.
    """
    if 76 * len(data) <= _MANIFEST_MEMORY + 8 * len(data):
        return  # even one value per byte fits: not worth counting (``list`` reads many)
    values = data.count(b",") + data.count(b":") + data.count(b"[") + data.count(b"{")
    estimate = 72 * values + 4 * len(data)
    if estimate > _MANIFEST_MEMORY + 8 * len(data):
        raise SnapshotLimitError(
            f"{path}: manifest.json holds about {values} JSON values in {len(data)} bytes; "
            "decoding it could take "
            f"{estimate // MiB} MiB; this is not a manifest dask-replay writes",
            path=path,
        )


def open_snapshot(
    path: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    allow_unsigned: bool = False,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
    head_only: bool = False,
    fileobj: IO[bytes] | None = None,
    keep_unreferenced: bool = False,
    sources_only: bool = False,
) -> Snapshot:
    """Read and verify a whole snapshot into memory; nothing is unpickled yet.

    Only the members the manifest refers to are kept: each piece's pickle and
    the buffers it names, the sources.  Any other member (one a newer writer
    added, or one a crafted file carries) streams through in 1 MiB steps, its
    checksum and signature verified and its size counted against the limits,
    but is never held: memory stays bounded by what the call needs.
    ``keep_unreferenced`` keeps them too (to copy the file whole).
    ``sources_only`` (with ``head_only``) keeps only the sources, for a page built
    from the manifest and the sources: no piece's pickle is held, none can be loaded.

    With ``key``, the HMAC is checked before this returns, and an unsigned file
    is refused unless ``allow_unsigned``.  ``progress(done, total)`` is called
    with compressed bytes read.

    ``head_only`` is for inspection (``imports()``, ``source()``): it stops at
    the first out-of-band buffer, which writers place last, and after
    ``limits.max_inspect_bytes`` of pickles and sources, so its cost is bounded
    whatever the file holds.  Its frames past the head are not checked, and
    loading a piece that needs a buffer is an error.  A signature covers the
    whole file, so ``head_only`` cannot go with ``key``.

    ``fileobj`` is read instead of opening ``path`` (a seekable binary file,
    such as an fsspec file over remote storage; its ``size``, or ``fstat``,
    gives its length); ``path`` then only names it, in messages and in
    ``Snapshot.path``.  The caller closes it.  Every check applies as to a file.
    """
    if head_only and key is not None:
        raise ValueError("a signature covers the whole file: head_only cannot verify it")
    if sources_only and not head_only:
        raise ValueError("sources_only is an inspection: it goes with head_only")
    limits = limits or _DEFAULT_LIMITS
    name = os.fspath(path)
    with _opened(name, fileobj) as fh, translated(name):
        check_start(fh, name, limits)
        bound = None if head_only else content_bound(fh, name, limits)
        # The head is small: read it in small steps, so that a remote file is
        # fetched little further than the head (a full read takes 1 MiB steps).
        step = _HEAD_READ if head_only else READ_CHUNK
        stream = decompressing(CountingFile(fh, progress), read_size=step)
        tar = TarReader(stream, name, limits, bound)
        # The version first (a newer major may sign differently), then the
        # signature, then consistency: an altered file is reported as altered.
        first = _first_member(tar)
        manifest = decode_manifest(first, name)
        model = parse_manifest(manifest, path=name)
        wanted: set[str] | None
        if sources_only:
            wanted = {e.member for e in (model.sources or {}).values() if e.member is not None}
        else:
            wanted = None if keep_unreferenced else referenced_members(model)
        signing = None
        if key is not None:  # the signing module loads only for a key or a signature
            from .signing import Signing, check

            signing = Signing(key)
            signing.member(MANIFEST_MEMBER, first)
        members, signature, digest, head = _read_members(tar, signing, head_only, wanted)
    verified = (
        check(name, signature, digest, allow_unsigned=allow_unsigned) if key is not None else False
    )
    _check_declared_sizes(model, members, head, name)
    return Snapshot(
        name,
        manifest,
        members,
        signed=signature is not None,
        verified=verified,
        head=head,
        model=model,
        limits=limits,
    )


def _first_member(tar: TarReader) -> Any:
    """``manifest.json``'s data (the tar layer refuses any other first member)."""
    first = tar.next()
    assert first is not None  # TarReader refuses an archive without manifest.json
    return tar.data(first[1])


def referenced_members(model: Manifest) -> set[str]:
    """The members the manifest refers to: every piece's pickle and the buffers its
    record names, and every source."""
    described = model.buffers or {}
    names = set()
    for record in (model.pieces or {}).values():
        names.add(record.member)
        names.update(described[b].member for b in record.buffers if b in described)
    names.update(entry.member for entry in (model.sources or {}).values())
    names.discard(None)
    return names  # type: ignore[return-value]


def _read_members(
    tar: TarReader, signing: Signing | None, head_only: bool, wanted: set[str] | None
) -> tuple[dict[str, Any], dict[str, Any] | None, str, Head | None]:
    """Every member after the manifest (``wanted`` ones only, unless None; the head
    only, within ``max_inspect_bytes``, if ``head_only``).

    A member left out is skipped, never held.  A head-only open counts its data
    against ``max_inspect_bytes`` too (its header and padding, at most 1 KiB a
    member, are bounded by ``max_members``), so that it reads on to the count
    a whole read reaches: both refuse a file with too many members.
    """
    members: dict[str, Any] = {}
    signature = None
    digest = ""
    limit = tar.limits.max_inspect_bytes
    inspected = 0
    while (entry := tar.next()) is not None:
        name, size = entry
        if name == SIGNATURE_MEMBER:
            from .signing import parse_signature

            digest = signing.digest() if signing is not None else ""
            signature = parse_signature(tar.data(size), tar.path)
            continue
        if head_only:
            if name.startswith(BUFFER_PREFIX):
                return members, None, "", Head({}, "the first buffers/ member", tar.total)
            room = limit - inspected
            if size > room and (wanted is None or name in wanted):
                members[name] = tar.prefix(size, max(room, 0))
                why = f"the inspection limit (ReadLimits.max_inspect_bytes={limit})"
                return members, None, "", Head({name: size}, why, tar.total)
            inspected += size
            if size > room:
                why = f"the inspection limit (ReadLimits.max_inspect_bytes={limit})"
                return members, None, "", Head({}, why, tar.total)
        if wanted is not None and name not in wanted:
            tar.skip(size, signing.start(name, size) if signing is not None else None)
            continue
        data = tar.data(size)
        if signing is not None:
            signing.member(name, data)
        members[name] = data
    tar.finish()
    return members, signature, digest, Head({}, None, tar.total) if head_only else None


def _check_declared_sizes(
    model: Manifest, members: dict[str, Any], head: Head | None, path: str
) -> None:
    """Each buffer and source member has the size (and a source the SHA-256) declared."""
    records: list[tuple[str, Any]] = [
        *(("buffers", r) for r in (model.buffers or {}).values()),
        *(("sources", r) for r in (model.sources or {}).values()),
    ]
    partial = head.partial if head is not None else {}
    for section, entry in records:
        data = members.get(entry.member) if entry.member is not None else None
        if data is None or entry.member in partial:
            continue
        if len(data) != entry.size:
            raise SnapshotFormatError(
                f"{path}: member {entry.member!r} holds {len(data)} bytes but the "
                f"manifest declares {entry.size!r}; the file is corrupt or was "
                "tampered with",
                path=path,
            )
        digest = getattr(entry, "sha256", None)
        if section == "sources" and digest is not None:
            if _sha256_hex(data) != digest.lower():
                raise SnapshotFormatError(
                    f"{path}: source member {entry.member!r} does not match the SHA-256 the "
                    "manifest records; the file is corrupt or was tampered with",
                    path=path,
                )
