"""Where the scheduler reads one snapshot from: its worker, a worker on its host, the storage.

The worker that wrote a file holds it; when that worker is gone, another
running worker on the same host may hold the same directory (a nanny's
restarted worker does), and the upload copy (``snapshot.upload``) may be
read from storage, but only at ``<the scheduler's snapshot.upload>/<name>``.
Bytes travel in chunks of ``CHUNK`` (never a whole file in the scheduler's
memory); a page is rendered where the file is, by ``snapshot.render_html``
(from storage: on the scheduler, reading only the head of the object).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dask.config
from distributed.comm.addressing import get_address_host

import snapshot
from snapshot import setting

from .._config import ConfigError
from .._names import PAGE_HANDLER, READ_HANDLER
from .files import valid_name
from .index import Row

#: Bytes per read, from a worker or from storage.
CHUNK = 1 * 2**20
#: Other workers on the holder's host asked for its file, at most.
MAX_NEIGHBOURS = 3
#: Seconds one page request may take, whoever renders it: every holder asked in
#: turn, then the upload copy, share this one deadline (docs/user-guide.md).
PAGE_DEADLINE = 120.0
#: Seconds a worker may take to read one chunk.
READ_TIMEOUT = 60.0


@dataclass(frozen=True)
class Answer:
    """A page, or why there is none: ``status`` is the HTTP status."""

    status: int
    html: str = ""
    title: str = ""
    message: str = ""


def upload_prefix() -> str | None:
    """The scheduler's ``snapshot.upload`` (None when unset or unusable)."""
    try:
        upload = setting("upload", dask.config.get("snapshot.upload", None))
    except ConfigError:
        return None
    return upload if isinstance(upload, str) and upload else None


def storage_url(row: Row, prefix: str | None) -> str | None:
    """The row's upload copy, when it lies exactly at ``prefix/<name>``."""
    if not prefix or row.url is None or row.name is None:
        return None
    expected = f"{prefix.rstrip('/')}/{row.name}"
    return expected if row.url == expected else None


def holders(row: Row, workers: Mapping[str, Any]) -> list[str]:
    """Running workers that may hold the file: its writer, then others on its host."""
    found = [row.worker] if row.worker in workers else []
    try:
        host = get_address_host(row.worker)
    except Exception:
        return found
    neighbours = 0
    for address in workers:
        if neighbours >= MAX_NEIGHBOURS:
            break
        try:
            if address != row.worker and get_address_host(address) == host:
                found.append(address)
                neighbours += 1
        except Exception:
            continue
    return found


def gone_message(row: Row) -> str:
    where = f" on {row.host}" if row.host else ""
    return (
        f"The worker {row.worker or '?'} that holds {row.name} has left the cluster, and no "
        f"running worker or upload copy (snapshot.upload) serves it. The file stays{where} "
        f"at {row.path}: copy it from there, or set snapshot.upload to keep copies in storage."
    )


async def page(
    rpc: Callable[[str], Any], row: Row, workers: Mapping[str, Any], download_href: str
) -> Answer:
    """The row's page, from a worker or from storage, within ``PAGE_DEADLINE`` in all."""
    assert row.name is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAGE_DEADLINE
    reasons: list[str] = []
    for address in holders(row, workers):
        left = deadline - loop.time()
        if left <= 0:
            return timed_out(row, reasons)
        try:
            reply = await asyncio.wait_for(
                getattr(rpc(address), PAGE_HANDLER)(name=row.name, download_href=download_href),
                left,
            )
        except Exception as err:
            if loop.time() >= deadline:
                reasons.append(f"{address} did not answer in time")
                return timed_out(row, reasons)
            reasons.append(f"{address}: {type(err).__name__}")
            continue
        if not isinstance(reply, dict):
            continue
        if reply.get("status") == "ok" and isinstance(reply.get("html"), str):
            return Answer(200, html=reply["html"])
        if reply.get("status") == "damaged":
            return Answer(422, title="Damaged snapshot", message=str(reply.get("reason")))
        reasons.append(str(reply.get("reason")))
    url = storage_url(row, upload_prefix())
    if url is not None:
        left = deadline - loop.time()
        if left <= 0:
            return timed_out(row, reasons)
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(_page_from_storage, url, row.name, download_href), left
            )
        except TimeoutError:
            reasons.append(f"the upload copy {url} was not read in time")
            return timed_out(row, reasons)
    if row.worker in workers:
        return Answer(
            404, title="Snapshot not found", message="; ".join(reasons) or f"{row.name}: not found"
        )
    return Answer(410, title="Worker gone", message=gone_message(row))


def timed_out(row: Row, reasons: list[str]) -> Answer:
    """504: the page's deadline passed; what was tried, and what to do instead."""
    tried = "; ".join(reasons) or "nothing answered"
    return Answer(
        504,
        title="Page timed out",
        message=(
            f"No page of {row.name} within {PAGE_DEADLINE:g} s ({tried}). The worker may be "
            "busy: try again later, or download the file and run "
            "python -m replay html on it."
        ),
    )


def _page_from_storage(url: str, name: str, download_href: str) -> Answer:
    """Render the upload copy, reading only its head (the manifest and the sources)."""
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(url)
        fh = fs.open(path, "rb")
    except Exception as err:
        return Answer(502, title="Storage unreachable", message=f"{url}: {err}")
    try:
        opened = snapshot.open_snapshot(url, head_only=True, sources_only=True, fileobj=fh)
        return Answer(
            200, html=snapshot.render_html(opened, download_href=download_href, name=name)
        )
    except snapshot.SnapshotError as err:
        return Answer(422, title="Damaged snapshot", message=str(err))
    except OSError as err:
        return Answer(502, title="Storage unreachable", message=f"{url}: {err}")
    finally:
        fh.close()


async def chunks(
    rpc: Callable[[str], Any], row: Row, workers: Mapping[str, Any]
) -> AsyncIterator[bytes] | Answer:
    """The file's bytes in chunks, or why they cannot be read."""
    assert row.name is not None and valid_name(row.name)
    for address in holders(row, workers):
        try:
            first = await asyncio.wait_for(
                getattr(rpc(address), READ_HANDLER)(name=row.name, offset=0, length=CHUNK),
                READ_TIMEOUT,
            )
        except Exception:
            continue
        if isinstance(first, dict) and first.get("status") == "ok":
            return _from_worker(rpc, address, row.name, first["data"])
    url = storage_url(row, upload_prefix())
    if url is not None:
        return _from_storage(url)
    if row.worker in workers:
        return Answer(404, title="Snapshot not found", message=f"{row.name}: not found")
    return Answer(410, title="Worker gone", message=gone_message(row))


async def _from_worker(
    rpc: Callable[[str], Any], address: str, name: str, first: bytes
) -> AsyncIterator[bytes]:
    chunk, offset = first, 0
    while chunk:
        yield chunk
        offset += len(chunk)
        if len(chunk) < CHUNK:
            return
        reply = await asyncio.wait_for(
            getattr(rpc(address), READ_HANDLER)(name=name, offset=offset, length=CHUNK),
            READ_TIMEOUT,
        )
        if not isinstance(reply, dict) or reply.get("status") != "ok":
            raise OSError(f"{name}: {reply.get('reason') if isinstance(reply, dict) else reply}")
        chunk = reply["data"]


async def _from_storage(url: str) -> AsyncIterator[bytes]:
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(url)
    src = await asyncio.to_thread(fs.open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(src.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(src.close)
