"""``python -m replay list DIR``: the snapshots in a directory, newest first.

Only manifests are read (``snapshot.read_manifest``), so listing costs the same
for a 1 KiB and a 10 GiB snapshot and never unpickles anything.  A file that
cannot be read is reported on its own line with the reason; it never stops the
listing of the others.  ``DIR`` may be a URL (``s3://bucket/prefix/``): the
``*.tar.zst`` objects right under it are listed, each read up to its manifest
only (a few range requests), :data:`_REMOTE_READERS` at a time.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

import snapshot

from .._describe.death import death_label, is_death
from .._describe.summary import format_size, task_key
from .._fetch.remote import filesystem, is_url, local_path, open_head, remote_errors
from .._terminal import for_terminal

__all__ = [
    "STORMS_FILE",
    "SnapshotEntry",
    "Unreadable",
    "format_entry",
    "format_unreadable",
    "read_storms",
    "scan_directory",
]

_MESSAGE_WIDTH = 60
# The sections a line shows.  Only these are given to the model's builder:
# building the whole model would cost as much again as reading the manifest.
_LISTED = ("format", "format_version", "created", "task", "error", "death", "on_demand")
#: Objects whose heads are read at once when listing a URL (each is a few round trips).
_REMOTE_READERS = 8
#: The cluster's counts per fingerprint, written beside fetched snapshots by
#: ``cluster_hook.fetch_snapshots`` (``{fingerprint: {failures, written, workers}}``).
STORMS_FILE = ".storms.json"
_MAX_STORMS_BYTES = 1 << 20


class Storm(NamedTuple):
    """How often one failure happened across the cluster, and how many snapshots it has."""

    failures: int
    written: int
    workers: int


class SnapshotEntry(NamedTuple):
    """One snapshot found in a directory."""

    path: str
    size: int
    model: snapshot.Manifest

    @property
    def created(self) -> str:
        return self.model.created or ""


class Unreadable(NamedTuple):
    """A file in the directory that is not a readable snapshot, and why."""

    path: str
    size: int | None
    reason: str


def scan_directory(directory: str) -> tuple[list[SnapshotEntry], list[Unreadable]]:
    """Return the snapshots in ``directory`` (newest first) and the files that failed.

    Hidden names are skipped: they are the writer's temporary files (see the
    snapshot's atomic write).  Raises :class:`snapshot.SnapshotNotFoundError`
    when ``directory`` does not exist.  A URL is listed by :func:`scan_prefix`.
    """
    if is_url(directory):
        local = local_path(directory)
        if local is None:
            return scan_prefix(directory)
        directory = local
    try:
        with os.scandir(directory) as listing:
            found = [(e.name, e) for e in listing if not e.name.startswith(".")]
    except FileNotFoundError as exc:
        raise snapshot.SnapshotNotFoundError(
            f"{directory}: no such directory; give the directory cluster_hook writes to "
            "(the snapshot.directory setting)",
            path=directory,
        ) from exc
    except NotADirectoryError as exc:
        raise snapshot.SnapshotReadError(
            f"{directory}: not a directory; `python -m replay info {directory}` describes "
            "one snapshot",
            path=directory,
        ) from exc
    except OSError as exc:
        raise snapshot.SnapshotReadError(
            f"{directory}: cannot list it: {exc.strerror or exc}", path=directory
        ) from exc
    found.sort()
    entries: list[SnapshotEntry] = []
    unreadable: list[Unreadable] = []
    for _, entry in found:
        path = entry.path
        size: int | None = None
        try:
            if not entry.is_file():
                continue
            size = entry.stat().st_size
            model = _listed(snapshot.read_manifest(path), path)
        except snapshot.SnapshotError as exc:
            unreadable.append(Unreadable(path, size, _reason(exc, path)))
            continue
        except OSError as exc:  # a file that vanished or cannot be stat'ed
            unreadable.append(Unreadable(path, size, str(exc.strerror or exc)))
            continue
        entries.append(SnapshotEntry(path, size, model))
    entries.sort(key=lambda entry: entry.created, reverse=True)
    return entries, unreadable


def _listed(raw: dict[str, Any], path: str) -> snapshot.Manifest:
    return snapshot.parse_manifest({k: raw[k] for k in _LISTED if k in raw}, path=path)


def scan_prefix(url: str) -> tuple[list[SnapshotEntry], list[Unreadable]]:
    """:func:`scan_directory` for a URL: the ``*.tar.zst`` objects right under the prefix.

    Raises a :class:`snapshot.SnapshotError` naming the URL when the prefix
    cannot be listed (no such bucket or prefix, no credentials, no network).
    """
    from concurrent.futures import ThreadPoolExecutor

    fs, path = filesystem(url)
    with remote_errors(url, "prefix"):
        listing = fs.ls(path, detail=True)
        found = sorted(
            (fs.unstrip_protocol(str(e["name"])), e.get("size"))
            for e in listing
            if e.get("type") == "file"
        )
    if len(found) == 1 and found[0][0].rstrip("/") == fs.unstrip_protocol(path).rstrip("/"):
        raise snapshot.SnapshotReadError(
            f"{url}: a snapshot, not a prefix; `python -m replay info {url}` describes it",
            path=url,
        )
    wanted = [
        (name, size if isinstance(size, int) else None)
        for name, size in found
        if name.endswith(".tar.zst") and not name.rsplit("/", 1)[-1].startswith(".")
    ]
    with ThreadPoolExecutor(max_workers=_REMOTE_READERS) as pool:
        read = list(pool.map(_read_remote, wanted))
    entries = [r for r in read if isinstance(r, SnapshotEntry)]
    entries.sort(key=lambda entry: entry.created, reverse=True)
    return entries, [r for r in read if isinstance(r, Unreadable)]


def _read_remote(found: tuple[str, int | None]) -> SnapshotEntry | Unreadable:
    url, size = found
    try:
        with open_head(url) as fh:
            raw = snapshot.read_manifest(url, fileobj=fh)  # type: ignore[arg-type]
        return SnapshotEntry(url, size or fh.size, _listed(raw, url))
    except snapshot.SnapshotError as exc:
        return Unreadable(url, size, _reason(exc, url))


def _reason(exc: snapshot.SnapshotError, path: str) -> str:
    """The error's message without the path it starts with (the line shows the path)."""
    message = str(exc)
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def read_storms(directory: str) -> dict[str, Storm]:
    """The cluster's counts kept beside the snapshots, if any; whatever is malformed is left out.

    The file is as hostile as the snapshots: read up to a bound, each entry
    kept only when its fields are non-negative integers.
    """
    if is_url(directory):
        local = local_path(directory)
        if local is None:
            return {}
        directory = local
    try:
        with open(os.path.join(directory, STORMS_FILE), "rb") as f:
            raw = json.loads(f.read(_MAX_STORMS_BYTES + 1)[:_MAX_STORMS_BYTES])
    except (OSError, ValueError, RecursionError):
        return {}
    storms: dict[str, Storm] = {}
    for fingerprint, counts in raw.items() if isinstance(raw, dict) else ():
        if not isinstance(counts, dict):
            continue
        values = [v for v in map(counts.get, Storm._fields) if type(v) is int and v >= 0]
        if len(values) == len(Storm._fields):
            storms[str(fingerprint)] = Storm(*values)
    return storms


def format_entry(entry: SnapshotEntry, storms: dict[str, Storm] | None = None) -> str:
    """``created  size  task key  Error: message  [storm]  path`` on one line.

    With the cluster's counts (``storms``), a snapshot of a failure that happened
    more often than it was written says so: ``(3 written, 2,000 failures on 16 workers)``.
    """
    error = entry.model.error or snapshot.Error()
    kind = error.type or "?"
    message = " ".join(error.message.split()) if error.message else ""
    if len(message) > _MESSAGE_WIDTH:
        message = message[: _MESSAGE_WIDTH - 3] + "..."
    created = entry.created.replace("T", " ")[:19]
    what = f"{kind}: {message}" if message else kind
    if is_death(entry.model):
        what = f"KilledWorker ({death_label(entry.model)})"
    elif entry.model.on_demand is not None and entry.model.error is None:
        what = "finished (captured on demand)"
    line = f"{created:19}  {format_size(entry.size):>9}  {task_key(entry.model)}  {what}"
    task = entry.model.task
    storm = (storms or {}).get(task.fingerprint or "") if task is not None else None
    if storm is not None and storm.failures > storm.written:
        line += (
            f"  ({storm.written:,} written, {storm.failures:,} failures "
            f"on {storm.workers:,} worker{'s' if storm.workers != 1 else ''})"
        )
    return for_terminal(line, one_line=True) + "  " + for_terminal(entry.path, one_line=True)


def format_unreadable(problem: Unreadable) -> str:
    """``?  size  unreadable: reason  path`` on one line, in the columns of :func:`format_entry`."""
    reason = for_terminal(problem.reason, one_line=True, limit=200)
    path = for_terminal(problem.path, one_line=True)
    return f"{'?':19}  {format_size(problem.size):>9}  unreadable: {reason}  {path}"
