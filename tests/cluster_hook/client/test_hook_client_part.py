"""The client's part on a real cluster: where its copies go, their modes, and its failures.

One ``LocalCluster(processes=True)`` with the hook preloaded on the worker (its
death set-up included, which creates the stack directory first) and the
client part installed by ``register(client, client_directory=...)``.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import dask
import distributed
import pytest
from distributed import Client, LocalCluster

import cluster_hook
from cluster_hook._client.copies import install_client

SOURCE = "def recip(x):\n    return 1 / x\n"


def _recip() -> object:
    namespace: dict[str, object] = {"__name__": "client_part_script"}
    exec(compile(SOURCE, "/client/home/script.py", "exec"), namespace)
    return namespace["recip"]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalCluster, Path]:
    root = tmp_path_factory.mktemp("client-part")
    snapshots = root / "new" / "snapshots"
    old = os.umask(0)  # the worker process inherits it: the hook must not rely on it
    try:
        with (
            dask.config.set(
                {
                    "distributed.worker.preload": ["cluster_hook"],
                    "snapshot.directory": str(snapshots),
                }
            ),
            LocalCluster(
                n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as started,
        ):
            os.umask(old)
            yield started, snapshots
    finally:
        os.umask(old)


def test_copies_go_where_register_says_owner_only(
    cluster: tuple[LocalCluster, Path], tmp_path: Path
) -> None:
    local, snapshots = cluster
    copies = tmp_path / "mine" / "copies"
    with Client(local) as client:
        cluster_hook.register(client, client_directory=str(copies))
        part = install_client(client)  # the one register installed
        failed = client.submit(_recip(), 0)
        distributed.wait(failed)
        (copy,) = [p for p in part.wait(timeout=60) if p is not None]
    assert copy.parent == copies
    for made in [
        snapshots,
        *[p for p in snapshots.rglob("*") if p.is_dir()],
        copies.parent,
        copies,
    ]:
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    keys = copies / f".{copy.name[: -len('.tar.zst')]}.keys.json"
    assert stat.S_IMODE(copy.stat().st_mode) == stat.S_IMODE(keys.stat().st_mode) == 0o600


def test_a_client_directory_that_cannot_be_made_is_one_warning(
    cluster: tuple[LocalCluster, Path], tmp_path: Path
) -> None:
    local, _ = cluster
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    records = _Records()
    logger = logging.getLogger("distributed.client.cluster_hook")
    logger.addHandler(records)
    try:
        with Client(local) as client:
            part = install_client(client, client_directory=str(blocker / "sub"))
            failed = client.submit(_recip(), 0)
            distributed.wait(failed)
            assert part.wait(timeout=60) == [None]
            assert failed.status == "error"  # the task's outcome is untouched
    finally:
        logger.removeHandler(records)
    (message,) = [m for m in records.messages if "could not keep a copy" in m]
    assert f"in {blocker / 'sub'} (snapshot.client-directory)" in message, message
