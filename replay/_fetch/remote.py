"""Snapshots in remote storage: a URL (``s3://bucket/prefix/name.tar.zst``) read through fsspec.

A target is a URL when it is a ``str`` that starts with ``scheme://``, the
scheme two characters or more (``C:/...`` and ``C:\\...`` are Windows paths, as
fsspec also decides); a ``file://`` URL is the local path it names.  Anything
else stays a plain path, and fsspec is never imported for it.

What each use reads: ``info`` and ``list`` the head of the object only,
through range requests of :data:`HEAD_BLOCK` bytes (the manifest is the first
tar member, the data buffers the last); a replay needs the whole object, which
is first copied to a temporary file (mode 0600, in :func:`tempfile.gettempdir`,
so ``TMPDIR`` moves it) and read through the same reader as any file, every
:class:`snapshot.ReadLimits` check included, then deleted: the snapshot is in
memory by then.  Credentials and the endpoint come from the storage library's
own configuration (for S3: ``AWS_*`` variables or ``~/.aws``, and fsspec's
``FSSPEC_S3_ENDPOINT_URL`` or botocore's ``AWS_ENDPOINT_URL_S3``).

Every error the storage library raises becomes a :class:`snapshot.SnapshotError`
that names the URL, says what is wrong and what to do (:func:`remote_errors`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import snapshot

__all__ = [
    "HEAD_BLOCK",
    "RemoteFile",
    "filesystem",
    "is_url",
    "local_path",
    "open_head",
    "open_target",
    "remote_errors",
    "target_size",
]

#: The bytes one range request of a head-only read asks for.
HEAD_BLOCK = 256 * 1024
#: The bytes one request of a whole-object copy asks for.
_COPY_BLOCK = 8 * 1024 * 1024
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+)://")
_MESSAGE_LIMIT = 200
_INSTALL = "pip install 'dask-replay[remote]' (s3fs), or the filesystem's own package"
_ENDPOINT = "FSSPEC_S3_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 for an S3-compatible store"
# Foreign errors recognised by their class names, so that botocore or aiohttp
# need not be importable (or imported) to tell them apart.
_NO_CREDENTIALS = {
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "NoAuthTokenError",
    "DefaultCredentialsError",  # google.auth
    "ClientAuthenticationError",  # azure
}
_UNREACHABLE = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ClientConnectorError",
    "ClientConnectionError",
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "ConnectionError",
    "TimeoutError",
    "gaierror",
}


def is_url(target: object) -> bool:
    """``target`` is a ``str`` of the form ``scheme://...`` (see the module's docstring)."""
    return isinstance(target, str) and _URL.match(target) is not None


def local_path(url: str) -> str | None:
    """The path a ``file://`` URL names (as fsspec reads it: not unquoted), else None."""
    if not url.lower().startswith("file://"):
        return None
    path = url[len("file://") :]
    if re.match(r"/[A-Za-z]:[/\\]", path):  # file:///C:/dir on Windows
        path = path[1:]
    return path


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _names(exc: BaseException) -> set[str]:
    names: set[str] = set()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the cause says it too
        seen.add(id(current))
        names.update(cls.__name__ for cls in type(current).__mro__)
        current = current.__cause__ or current.__context__
    return names


def translate(url: str, exc: BaseException, what: str = "object") -> snapshot.SnapshotError:
    """Our error for what the storage library raised about ``url`` (an object or a prefix)."""
    why = _short(exc)
    names = _names(exc)
    if isinstance(exc, ImportError):
        return snapshot.SnapshotReadError(
            f"{url}: reading it needs a package that is not installed ({why}); {_INSTALL}",
            path=url,
        )
    if isinstance(exc, ValueError) and why.startswith("Protocol not known"):
        scheme = url.split("://", 1)[0]
        return snapshot.SnapshotReadError(
            f"{url}: fsspec knows no protocol {scheme!r}; give a local path or an fsspec URL "
            "(s3://bucket/prefix/name.tar.zst)",
            path=url,
        )
    if isinstance(exc, FileNotFoundError):
        if "bucket" in why.lower():
            return snapshot.SnapshotNotFoundError(
                f"{url}: no such bucket ({why}); check the bucket's name, and the endpoint "
                f"if it is not AWS ({_ENDPOINT})",
                path=url,
            )
        if what == "prefix":
            return snapshot.SnapshotNotFoundError(
                f"{url}: no such prefix: nothing is stored under it; check the URL, and "
                "snapshot.upload on the workers",
                path=url,
            )
        return snapshot.SnapshotNotFoundError(
            f"{url}: no such object; check the URL (`python -m replay list PREFIX/` lists "
            "the snapshots under a prefix)",
            path=url,
        )
    if names & _NO_CREDENTIALS:
        return snapshot.SnapshotReadError(
            f"{url}: no credentials for the storage ({why}); set them as its library reads "
            "them (for S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or "
            "~/.aws/credentials)",
            path=url,
        )
    if isinstance(exc, PermissionError):
        return snapshot.SnapshotReadError(
            f"{url}: access denied ({why}); check the credentials and that they may read it",
            path=url,
        )
    if names & _UNREACHABLE:
        return snapshot.SnapshotReadError(
            f"{url}: cannot reach the storage ({why}); check the network and the endpoint "
            f"({_ENDPOINT})",
            path=url,
        )
    return snapshot.SnapshotReadError(
        f"{url}: cannot read it: {type(exc).__name__}: {why}", path=url
    )


@contextlib.contextmanager
def remote_errors(url: str, what: str = "object") -> Iterator[None]:
    """Whatever the storage library raises inside becomes ours (``raise ... from``).

    Only calls into fsspec and its filesystems go inside: their errors are
    remote storage's, of any type (botocore's are not ``OSError``s).
    """
    try:
        yield
    except snapshot.SnapshotError:
        raise
    except Exception as exc:
        raise translate(url, exc, what) from exc


def filesystem(url: str) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the path in it (fsspec imported only now)."""
    with remote_errors(url):
        from fsspec.core import url_to_fs

        return url_to_fs(url)


class RemoteFile:
    """An fsspec file whose every call translates the storage's errors (for the reader)."""

    def __init__(self, fh: Any, url: str, size: int) -> None:
        self._fh = fh
        self.url = url
        self.size = size

    def read(self, n: int = -1) -> bytes:
        with remote_errors(self.url):
            return bytes(self._fh.read(n))

    def readinto(self, b: Any) -> int:
        with remote_errors(self.url):
            return int(self._fh.readinto(b))

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        with remote_errors(self.url):
            return int(self._fh.seek(offset, whence))

    def tell(self) -> int:
        return int(self._fh.tell())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()


def _open(url: str, block_size: int, cache_type: str) -> RemoteFile:
    fs, path = filesystem(url)
    with remote_errors(url):
        fh = fs.open(path, "rb", block_size=block_size, cache_type=cache_type)
    try:
        details = getattr(fh, "details", None)
        if isinstance(details, dict) and details.get("type") == "directory":
            raise snapshot.SnapshotReadError(
                f"{url}: a prefix (a directory), not a snapshot; `python -m replay list {url}` "
                "lists the snapshots under it",
                path=url,
            )
        size = getattr(fh, "size", None)
        if not isinstance(size, int):  # not every fsspec file has one (memory://)
            with remote_errors(url):
                size = int(fs.size(path))
    except BaseException:
        with contextlib.suppress(Exception):
            fh.close()
        raise
    return RemoteFile(fh, url, size)


@contextlib.contextmanager
def open_head(url: str) -> Iterator[RemoteFile]:
    """``url`` open for reading its head: each miss fetches :data:`HEAD_BLOCK` bytes ahead."""
    fh = _open(url, HEAD_BLOCK, "readahead")
    try:
        yield fh
    finally:
        fh.close()


def target_size(target: str) -> int | None:
    """The size in bytes of the file or object ``target`` names, or None if it cannot be had."""
    path = local_path(target) if is_url(target) else target
    try:
        if path is not None:
            return os.path.getsize(path)
        fs, name = filesystem(target)
        return int(fs.size(name))
    except Exception:  # only a figure to show: the read itself said what was wrong
        return None


@contextlib.contextmanager
def _copied(
    url: str, limits: snapshot.ReadLimits, progress: Callable[[int, int], None] | None
) -> Iterator[Any]:
    """The whole object, copied to a temporary file, open; the file is deleted after."""
    source = _open(url, _COPY_BLOCK, "none")
    try:
        if source.size > limits.max_total_bytes:
            raise snapshot.SnapshotLimitError(
                f"{url}: the object holds {source.size} bytes, above the read limit of "
                f"{limits.max_total_bytes}; if the snapshot is genuine, raise "
                "ReadLimits.max_total_bytes",
                path=url,
            )
        import tempfile  # only now: it costs a replay of a local file nothing

        directory = tempfile.gettempdir()
        try:
            local = tempfile.TemporaryFile(prefix="dask-replay-", suffix=".tar.zst")
        except OSError as exc:
            raise _local_error(url, directory, exc) from exc
        with local:
            done = 0
            while chunk := source.read(_COPY_BLOCK):
                try:
                    local.write(chunk)
                except OSError as exc:
                    raise _local_error(url, directory, exc) from exc
                done += len(chunk)
                if progress is not None:
                    progress(done, source.size)
            local.seek(0)
            yield local
    finally:
        source.close()


def _local_error(url: str, directory: str, exc: OSError) -> snapshot.SnapshotReadError:
    return snapshot.SnapshotReadError(
        f"{url}: cannot copy it to {directory}: {exc.strerror or exc}; free space there, or "
        "set TMPDIR to a directory with room",
        path=url,
    )


def open_target(
    target: str,
    *,
    key: bytes | None = None,
    allow_unsigned: bool = False,
    limits: snapshot.ReadLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
    head_only: bool = False,
    sources_only: bool = False,
) -> snapshot.Snapshot:
    """``snapshot.open_snapshot`` for a path or a URL; for a URL, messages name it."""
    options: dict[str, Any] = {
        "key": key,
        "allow_unsigned": allow_unsigned,
        "limits": limits,
        "progress": progress,
        "head_only": head_only,
        "sources_only": sources_only,
    }
    if not is_url(target):
        return snapshot.open_snapshot(target, **options)
    path = local_path(target)
    if path is not None:
        return snapshot.open_snapshot(path, **options)
    if head_only:
        with open_head(target) as fh:
            return snapshot.open_snapshot(target, fileobj=fh, **options)  # type: ignore[arg-type]
    with _copied(target, limits or snapshot.ReadLimits(), progress) as local:
        return snapshot.open_snapshot(target, fileobj=local, **options)
