"""Copy snapshots off the cluster while it is still up.

Workers write snapshots to their own disks.  :func:`fetch_snapshots` asks each
worker (``Client.run``) which snapshot files its directory holds, reads each
one in chunks (so a large snapshot never sits whole in the scheduler's or the
client's memory) and writes it under a local directory.  Workers that share a
host and a directory are read once.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snapshot import SNAPSHOT_SUFFIX as SUFFIX
from snapshot import make_private_dirs

from .._config import Settings
from .._names import PLUGIN_NAME
from .._storms.scheduler import storm_counts_on_scheduler

if TYPE_CHECKING:
    from distributed import Client

CHUNK_BYTES = 8 * 2**20
#: The cluster's storm counts beside fetched snapshots, read by ``python -m replay list``.
STORMS_FILE = ".storms.json"
#: Transfers at least this large show progress on stderr.
PROGRESS_BYTES = 16 * 2**20


def _directory(dask_worker: Any) -> Path:
    """The snapshot directory in force on this worker (plugin first, else config)."""
    plugin = getattr(dask_worker, "plugins", {}).get(PLUGIN_NAME)
    settings = getattr(plugin, "settings", None)
    if settings is None:
        settings = Settings.from_config()
    return Path(settings.directory)


def _list_snapshots(dask_worker: Any = None) -> dict[str, Any]:
    """Runs on a worker: ``{host, directory, files: [[name, size], ...]}``."""
    directory = _directory(dask_worker)
    files: list[list[Any]] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(SUFFIX) and not entry.name.startswith("."):
                    if entry.is_file():
                        files.append([entry.name, entry.stat().st_size])
    except FileNotFoundError:
        pass
    files.sort()
    return {"host": socket.gethostname(), "directory": str(directory), "files": files}


def read_chunk(name: str, offset: int, length: int, dask_worker: Any = None) -> bytes:
    """Runs on a worker: ``length`` bytes of one snapshot from ``offset``."""
    if os.sep in name or name.startswith(".") or not name.endswith(SUFFIX):
        raise ValueError(f"not a snapshot file name: {name!r}")
    with open(_directory(dask_worker) / name, "rb") as f:
        f.seek(offset)
        return f.read(length)


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def fetch_snapshots(
    client: Client,
    dest: str | os.PathLike[str],
    *,
    progress: bool = True,
) -> list[Path]:
    """Copy every worker's snapshots into ``dest``; return the local paths.

    Files already in ``dest`` with the same size are not copied again.  With
    ``progress``, transfers of 16 MiB or more report progress on stderr.
    """
    target = Path(dest)
    make_private_dirs(target)
    listings = client.run(_list_snapshots, on_error="return")
    sources: dict[tuple[str, str], tuple[str, list[list[Any]]]] = {}
    for address, listing in sorted(listings.items()):
        if isinstance(listing, BaseException):
            print(
                f"dask-replay: cannot list snapshots on {address}: {listing}",
                file=sys.stderr,
            )
            continue
        place = (listing["host"], listing["directory"])
        sources.setdefault(place, (address, listing["files"]))

    todo: list[tuple[str, str, int]] = []
    done: list[Path] = []
    for address, files in sources.values():
        for name, size in files:
            local = target / name
            if local.exists() and local.stat().st_size == size:
                done.append(local)
            else:
                todo.append((address, name, size))

    total = sum(size for _, _, size in todo)
    show = progress and total >= PROGRESS_BYTES
    copied = 0
    for index, (address, name, size) in enumerate(todo, 1):
        local = target / name
        partial = target / f".{name}.partial"
        try:
            with open(partial, "wb") as out:
                os.chmod(partial, 0o600)
                offset = 0
                while offset < size:
                    chunk = client.run(read_chunk, name, offset, CHUNK_BYTES, workers=[address])[
                        address
                    ]
                    if not chunk:
                        break
                    out.write(chunk)
                    offset += len(chunk)
                    copied += len(chunk)
                    if show:
                        print(
                            f"\rdask-replay: fetched {_mib(copied)} of {_mib(total)} "
                            f"({index - 1} of {len(todo)} files done)",
                            end="",
                            file=sys.stderr,
                            flush=True,
                        )
            os.replace(partial, local)
            done.append(local)
        except Exception as err:
            partial.unlink(missing_ok=True)
            print(f"\ndask-replay: could not fetch {name} from {address}: {err}", file=sys.stderr)
    if show:
        print(f"\rdask-replay: fetched {len(todo)} snapshot(s), {_mib(copied)}", file=sys.stderr)
    _keep_storm_counts(client, target)
    return sorted(done)


def _keep_storm_counts(client: Client, target: Path) -> None:
    """The cluster's counts beside the files, for ``python -m replay list`` (``.storms.json``)."""
    try:
        counts = client.run_on_scheduler(storm_counts_on_scheduler)
    except Exception as err:
        print(f"dask-replay: cannot read the cluster's storm counts: {err}", file=sys.stderr)
        return
    if not counts:
        return
    path = target / STORMS_FILE
    partial = target / f"{STORMS_FILE}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(
            {fp: {k: c[k] for k in ("failures", "written", "workers")} for fp, c in counts.items()},
            out,
        )
    os.replace(partial, path)
