"""``cluster_hook.capture`` when the worker's disk is not the client's: the file is fetched.

The worker (``dask worker`` in a private mount namespace, ``unshare -m``, with
a tmpfs over its ``snapshot.directory``) writes where the client cannot see,
as a worker on another host does; ``capture`` then reads the file from the
worker in chunks, from a synchronous and from an asynchronous client, and the
copy replays with the same result.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client
from subprocess_cluster import free_port, stop, wait_for_workers

import cluster_hook
import replay
import snapshot


def triple(x: int) -> int:
    return 3 * x


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("remote")
    hidden = tmp / "worker-snapshots"  # a tmpfs in the worker's namespace: empty here
    hidden.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["DASK_SNAPSHOT__DIRECTORY"] = str(hidden)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    address = f"tcp://127.0.0.1:{free_port()}"
    common: dict[str, Any] = {"env": env, "stderr": subprocess.STDOUT, "start_new_session": True}
    logs = [open(tmp / f"{name}.log", "wb") for name in ("scheduler", "worker")]
    dask_cmd = [sys.executable, "-m", "dask"]
    port = address.rsplit(":", 1)[1]
    procs = [
        subprocess.Popen(
            [*dask_cmd, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            stdout=logs[0],
            **common,
        )
    ]
    worker = " ".join(
        [*dask_cmd, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
    )
    assert shutil.which("unshare"), "util-linux's unshare is needed to hide the worker's disk"
    procs.append(
        subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                f"mount -t tmpfs dask-replay-test {hidden} && exec {worker}",
            ],
            stdout=logs[1],
            **common,
        )
    )
    try:
        wait_for_workers(address, 1, env)
        yield {"address": address, "tmp": tmp, "hidden": hidden}
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in logs:
            log.close()


def _client_dir(cluster: dict[str, Any], name: str) -> dict[str, str]:
    return {"snapshot.client-directory": str(cluster["tmp"] / name)}


def test_a_synchronous_client_fetches_the_worker_s_file(cluster: dict[str, Any]) -> None:
    with dask.config.set(_client_dir(cluster, "sync")), Client(cluster["address"]) as client:
        future = client.submit(triple, 14)
        path = cluster_hook.capture(future)
    assert path.parent == cluster["tmp"] / "sync"
    assert list(cluster["hidden"].iterdir()) == []  # written where this process cannot see
    model = snapshot.read_model(path)
    assert model.origin is not None and model.origin.worker != ""
    outcome = replay.load(path).replay()
    assert outcome.verdict is replay.Verdict.SAME_RESULT and outcome.result == 42


def test_an_asynchronous_client_fetches_it_too(cluster: dict[str, Any]) -> None:
    async def main() -> Path:
        async with Client(cluster["address"], asynchronous=True) as client:
            future = client.submit(triple, 5)
            return await cluster_hook.capture(future)

    with dask.config.set(_client_dir(cluster, "async")):
        path = asyncio.run(main())
    assert path.parent == cluster["tmp"] / "async"
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".capture-")] == []
    outcome = replay.load(path).replay()
    assert outcome.verdict is replay.Verdict.SAME_RESULT and outcome.result == 15


def test_the_directory_given_to_register_receives_the_copy(cluster: dict[str, Any]) -> None:
    """``register(client, client_directory=D)`` sets where the client part keeps its
    copies; a capture keeps its copy there too, not in ``snapshot.client-directory``."""
    given = cluster["tmp"] / "registered"
    with dask.config.set(_client_dir(cluster, "config")), Client(cluster["address"]) as client:
        cluster_hook.register(client, client_directory=str(given))
        path = cluster_hook.capture(client.submit(triple, 7))
    assert path.parent == given
    assert not (cluster["tmp"] / "config").exists()
    outcome = replay.load(path).replay()
    assert outcome.verdict is replay.Verdict.SAME_RESULT and outcome.result == 21
