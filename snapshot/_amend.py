"""Client copies: a snapshot rewritten with the source texts its writer could not know.

A worker cannot know the source of a function defined in a notebook cell or in
``__main__``: cloudpickle ships its code, not its text.  The client that
defined it can.  :func:`add_sources` rewrites a snapshot with such texts added
as ordinary ``sources/<n>.py`` members and ``sources`` entries, and records
which ones were added in the manifest's ``amended`` section (format spec,
section 4.11).  Every other member is copied byte for byte, in its order.

A signed snapshot stays verifiable: with the key it was signed with, the copy
is signed again (the client holds the cluster's key); without it nothing is
added and the copy is the file as written.  The texts are for a person to read
(replay shows a text only when its compiled code equals the code that ran);
nothing here is ever executed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from ._format import MANIFEST_MEMBER, source_entry
from ._read.opening import open_snapshot
from ._read.snapshot import BUFFER_PREFIX
from ._write.stream import TarStream, write_atomically

__all__ = [
    "AMENDED_BY",
    "add_sources",
    "copy_of_keys_file",
    "default_client_directory",
    "keys_file",
    "read_keys",
    "write_keys",
]

#: The ``amended.by`` value of the copies dask-replay's client part keeps.
AMENDED_BY = "dask-replay client"


def default_client_directory() -> Path:
    """Where a client keeps its copies: ``$XDG_CACHE_HOME/dask-replay/client``, else
    ``~/.cache/dask-replay/client`` (the ``snapshot.client-directory`` default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "dask-replay" / "client"


#: The suffix of the hidden file beside a client copy naming the keys whose failure it is.
KEYS_SUFFIX = ".keys.json"
_MAX_KEYS_BYTES = 64 * 1024


def keys_file(copy: str | os.PathLike[str]) -> Path:
    """The hidden file beside the copy ``NAME.tar.zst``: ``.NAME.keys.json`` (hidden, so
    that ``replay list`` and the pruning skip it, as they skip files being written)."""
    path = Path(copy)
    stem = path.name[: -len(".tar.zst")] if path.name.endswith(".tar.zst") else path.name
    return path.with_name(f".{stem}{KEYS_SUFFIX}")


def copy_of_keys_file(name: str) -> str | None:
    """The copy's file name for a :func:`keys_file` name, or None for any other name."""
    if not (name.startswith(".") and name.endswith(KEYS_SUFFIX)) or len(name) <= 11:
        return None
    return name[1 : -len(KEYS_SUFFIX)] + ".tar.zst"


def write_keys(copy: str | os.PathLike[str], keys: list[object]) -> None:
    """Record, beside a client copy, the keys (JSON form) of the client's futures it failed.

    A closed client's futures are cancelled and forget their exception, so
    ``replay.load(future)`` finds the snapshot by the future's key instead.
    Written atomically, mode 0600, under a temporary name of its own (several
    clients of one process may keep the same copy).
    """
    target = keys_file(copy)
    fd, partial = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"keys": keys[:1000]}))
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def read_keys(path: str | os.PathLike[str]) -> list[object]:
    """The keys a :func:`write_keys` file lists; [] for anything unreadable or malformed."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(_MAX_KEYS_BYTES + 1)[:_MAX_KEYS_BYTES])
    except (OSError, ValueError, RecursionError):
        return []
    keys = data.get("keys") if isinstance(data, dict) else None
    return list(keys) if isinstance(keys, list) else []


def add_sources(
    path: str | os.PathLike[str],
    target: str | os.PathLike[str],
    sources: Mapping[str, str],
    *,
    key: bytes | None = None,
) -> list[str]:
    """Write ``target``: the snapshot at ``path`` with ``sources`` (file name -> text) added.

    File names the snapshot already holds are left as they are.  Returns the
    names added (none for a signed snapshot without its ``key``: the copy is
    then the file unchanged).  Raises :class:`snapshot.SnapshotError` for a file
    that cannot be read, or a signed one whose MAC does not match ``key``.
    """
    opened = open_snapshot(path, key=key, allow_unsigned=True, keep_unreferenced=True)
    manifest = dict(opened.manifest)
    held = manifest.get("sources")
    entries = dict(held) if isinstance(held, dict) else {}
    members = opened.members
    added = {n: t for n, t in sources.items() if n not in entries}
    if not added or (opened.signed and not opened.verified):
        if os.path.abspath(path) != os.path.abspath(target):
            _copy_private(path, target)
        return []
    numbers = [-1]
    for name in members:
        stem = name[len("sources/") : -len(".py")] if name.startswith("sources/") else ""
        if name.endswith(".py") and stem.isdigit():
            numbers.append(int(stem))
    texts: dict[str, bytes] = {}
    for n, (filename, text) in enumerate(added.items(), start=max(numbers) + 1):
        data, entries[filename] = source_entry(n, text)
        texts[entries[filename]["member"]] = data
    manifest["sources"] = entries
    manifest["amended"] = {"by": AMENDED_BY, "time": time.time(), "sources": list(added)}
    body = json.dumps(manifest, ensure_ascii=False, allow_nan=False).encode("utf-8")

    def produce(tar: TarStream) -> None:
        tar.add(MANIFEST_MEMBER, body)
        later = [n for n in members if n.startswith(BUFFER_PREFIX)]
        for name, data in members.items():
            if not name.startswith(BUFFER_PREFIX):
                tar.add(name, memoryview(data))
        for name, data in texts.items():
            tar.add(name, data)
        for name in later:  # buffers last, as the writer puts them (spec 3.4)
            tar.add(name, memoryview(members[name]))

    write_atomically(target, produce, key=key if opened.signed else None)
    return list(added)


def _copy_private(path: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Copy ``path`` to ``target`` atomically, mode 0600 (a snapshot may hold secrets)."""
    target = Path(target)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
