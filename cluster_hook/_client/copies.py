"""The client's part of the hook: a copy of each snapshot of its failures, with their source.

``distributed.client.preload: [cluster_hook]`` (or ``cluster_hook.register(client)``)
installs it on a Client.  It follows the cluster's ``snapshot`` events
(published by the workers' part through ``Worker.log_event``) for the keys this
client holds, fetches each snapshot from the worker that wrote it, in a thread
of its own (never on the event loop) and in chunks, and keeps it under
``snapshot.client-directory`` with the source of the functions the client
shipped by value added (``snapshot._amend``): the cell a notebook user defined
``recip`` in then travels with the snapshot, and the copy outlives the
worker's disk.  The directory is pruned oldest first to
``snapshot.client-max-size``.  Inside IPython it also loads replay's IPython
extension, so that ``%debug`` after a failed task opens the captured frames.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask.config

import snapshot
from snapshot import SNAPSHOT_SUFFIX as SUFFIX
from snapshot import (
    add_sources,
    default_client_directory,
    keys_file,
    make_private_dirs,
    setting,
    write_keys,
)

from .._config import Settings
from .._names import SNAPSHOT_TOPIC
from .fetch import CHUNK_BYTES, read_chunk
from .sources import client_sources

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["ClientCopies", "client_copies", "client_settings", "install_client"]

logger = logging.getLogger("distributed.client.cluster_hook")

_ATTRIBUTE = "_dask_replay_copies"
_serial = itertools.count()


def client_settings(**overrides: Any) -> tuple[Path, int]:
    """``snapshot.client-directory`` and ``snapshot.client-max-size`` (bytes).

    Only these two are read and checked: a worker setting the client never
    uses cannot stop a Client from starting.  ``overrides`` (``client_directory``,
    ``client_max_size``, as ``register(client, ...)`` takes them) win.
    """
    given = {k.replace("_", "-"): v for k, v in overrides.items()}
    directory = given.get("client-directory") or dask.config.get(
        "snapshot.client-directory", default=None
    )
    limit = given.get("client-max-size") or dask.config.get(
        "snapshot.client-max-size", default="2 GiB"
    )
    path = setting("client-directory", directory) or default_client_directory()
    return path, setting("client-max-size", limit)


class ClientCopies:
    """Keeps the client's copies: one per ``snapshot`` event of one of its keys."""

    def __init__(self, client: Client, directory: Path, max_bytes: int) -> None:
        self.client = client
        self.directory = directory
        self.max_bytes = max_bytes
        self.key = Settings.from_config().key
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dask-replay-copies")
        #: Futures of the copies under way (tests and ``wait`` look at them).
        self.pending: list[Any] = []

    def handle(self, event: Any) -> None:
        """The ``snapshot`` topic's handler; runs on the client's event loop: only queues."""
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(msg, dict) or not isinstance(msg.get("path"), str):
            return
        self.pending = [f for f in self.pending if not f.done()]
        self.pending.append(self._pool.submit(self._copy_if_ours, msg))

    def _copy_if_ours(self, msg: dict[str, Any]) -> Path | None:
        try:
            key = snapshot.key_from_json(msg.get("key"))
            wanted = [msg.get("key")] if key in self.client.futures else []
            if not self.client.asynchronous:  # and the futures that failed because of it
                found = self.client.run_on_scheduler(_wanted_by, key, self.client.id)
                wanted += [k for k in found if k not in wanted]
        except Exception as err:  # an unhashable key, or the scheduler is gone
            logger.info("dask-replay: cannot tell whose task %r is: %s", msg.get("key"), err)
            return None
        return self.copy(msg, wanted) if wanted else None

    def copy(self, msg: dict[str, Any], wanted: list[Any] | None = None) -> Path | None:
        """Fetch the snapshot ``msg`` announces, add the sources, prune; the copy's path.

        ``wanted``: the keys (JSON form) of this client's futures that failed
        because of it, written beside the copy (``snapshot._amend.write_keys``)
        so that ``replay.load(future)`` finds it after the client closed.
        """
        name = os.path.basename(str(msg["path"]))
        size = msg.get("bytes")
        if not name.endswith(SUFFIX) or name.startswith("."):
            return None
        if isinstance(size, int) and size > self.max_bytes:
            logger.warning(
                "dask-replay: %s (%d bytes) is larger than snapshot.client-max-size (%d bytes); "
                "not copied: raise snapshot.client-max-size to keep copies of it",
                name,
                size,
                self.max_bytes,
            )
            return None
        target = self.directory / name
        # A name of its own: several clients of one process may copy the same snapshot.
        fetched = self.directory / f".{name}.{os.getpid()}-{id(self):x}-{next(_serial)}.fetched"
        try:
            make_private_dirs(self.directory)
            self._fetch(msg, name, fetched)
            try:
                opened = snapshot.open_snapshot(fetched, key=self.key, allow_unsigned=True)
                sources = client_sources(opened)
            except snapshot.SnapshotError:
                sources = {}
            add_sources(fetched, target, sources, key=self.key)
            write_keys(target, wanted or [msg.get("key")])
        except Exception as err:
            logger.warning(
                "dask-replay: could not keep a copy of %s in %s (snapshot.client-directory): %s",
                name,
                self.directory,
                err,
            )
            return None
        finally:
            with contextlib.suppress(OSError):  # e.g. a directory that could not be made
                fetched.unlink(missing_ok=True)
        self._prune(keep=target)
        return target

    def _fetch(self, msg: dict[str, Any], name: str, out: Path) -> None:
        path = str(msg["path"])
        if os.path.isfile(path):  # this machine's worker, or a shared file system
            with open(out, "wb") as fh, open(path, "rb") as src:
                os.chmod(out, 0o600)
                shutil.copyfileobj(src, fh, CHUNK_BYTES)
            return
        worker = msg.get("worker")
        if self.client.asynchronous or not isinstance(worker, str):
            raise OSError(f"{path} is not on this machine and cannot be fetched from here")
        with open(out, "wb") as fh:
            os.chmod(out, 0o600)
            offset = 0
            while True:
                chunk = self.client.run(read_chunk, name, offset, CHUNK_BYTES, workers=[worker])[
                    worker
                ]
                if not chunk:
                    return
                fh.write(chunk)
                offset += len(chunk)
                if offset > self.max_bytes:
                    raise OSError(f"{name} is larger than snapshot.client-max-size")

    def _prune(self, keep: Path) -> None:
        """Delete the oldest copies until the directory holds at most ``max_bytes``."""
        entries = []
        for entry in os.scandir(self.directory):
            if entry.name.endswith(SUFFIX) and not entry.name.startswith("."):
                stat = entry.stat()
                entries.append((stat.st_mtime, entry.path, stat.st_size))
        total = sum(size for _, _, size in entries)
        for _, path, size in sorted(entries):
            if total <= self.max_bytes:
                break
            if os.path.abspath(path) != os.path.abspath(keep):
                Path(path).unlink(missing_ok=True)
                keys_file(path).unlink(missing_ok=True)
                total -= size

    def wait(self, timeout: float | None = None) -> list[Path | None]:
        """Wait for the copies under way; their paths (None for those that failed)."""
        return [f.result(timeout) for f in list(self.pending)]


def _wanted_by(key: Any, client_id: str, dask_scheduler: Any = None) -> list[Any]:
    """Runs on the scheduler: the keys (JSON form) ``client_id`` wants of ``key`` and the
    tasks that depend on it (at most 1,000, from a walk of at most 100,000 tasks)."""
    start = dask_scheduler.tasks.get(key)
    stack = [start] if start is not None else []
    seen: set[int] = set()
    wanted: list[Any] = []
    while stack and len(seen) < 100_000 and len(wanted) < 1000:
        ts = stack.pop()
        if id(ts) in seen:
            continue
        seen.add(id(ts))
        if any(getattr(c, "client_key", None) == client_id for c in ts.who_wants or ()):
            wanted.append(snapshot.key_to_json(ts.key))
        stack.extend(ts.dependents)
    return wanted


def install_client(client: Client, **overrides: Any) -> ClientCopies:
    """Follow ``client``'s snapshot events (once per client); load replay's IPython extension.

    ``overrides``: ``client_directory`` and ``client_max_size``, over the config.
    """
    copies = getattr(client, _ATTRIBUTE, None)
    if isinstance(copies, ClientCopies):
        if overrides:
            copies.directory, copies.max_bytes = client_settings(**overrides)
        return copies
    directory, max_bytes = client_settings(**overrides)
    copies = ClientCopies(client, directory, max_bytes)
    setattr(client, _ATTRIBUTE, copies)
    client.subscribe_topic(SNAPSHOT_TOPIC, copies.handle)
    _load_ipython_extension()
    return copies


def client_copies(client: Client) -> ClientCopies:
    """The copies :func:`install_client` keeps for ``client`` (``register(client,
    client_directory=...)``), else copies by the config, made for the caller alone."""
    copies = getattr(client, _ATTRIBUTE, None)
    if isinstance(copies, ClientCopies):
        return copies
    return ClientCopies(client, *client_settings())


def _load_ipython_extension() -> None:
    """Inside IPython, ``%load_ext replay`` (its ``%debug`` support); elsewhere nothing."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    try:
        shell.extension_manager.load_extension("replay")
    except Exception as err:
        logger.warning("dask-replay: could not load replay's IPython extension: %s", err)
