"""``cluster_hook.capture(future)`` refused because an input would not fit on the writing worker.

Two nanny workers with a 500 MiB memory limit (spilling and pausing off, so
that the nanny's restart line is the only one): A holds a 150 MiB input, B a
120 MiB one.  The two producers are pinned (``workers=``) because the case is
about placement: the value must be on another worker than the writer.  The
task that combines them is placed by Dask (on A, which holds more of its
bytes); once it has run, the Active Memory Manager drops the copy of B's
value that A fetched, as it does by default.  Capturing that task then
chooses A as the writer (it holds the most), and fetching 120 MiB there
would leave less than the 128 MiB reserve below A's restart threshold
(475 MiB - 64 MiB margin - ~210 MiB RSS), so the capture is refused
before anything is fetched or written.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster

import cluster_hook
import snapshot

MiB = 2**20
JOB = """\
def make(fill, n):
    return fill * n


def combine(a, b):
    return len(a) + len(b)


def inc(x):
    return x + 1
"""


def _job() -> dict[str, Any]:
    """The functions as a client's ``__main__`` defines them: they travel by value."""
    job: dict[str, Any] = {"__name__": "client_script_headroom"}
    exec(compile(JOB, "/client/home/headroom.py", "exec"), job)
    return job


def test_an_input_over_the_writers_headroom_is_named_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    job = _job()
    directory = tmp_path / "worker-snapshots"
    config = {
        "snapshot.directory": str(directory),
        "snapshot.client-directory": str(tmp_path / "client-copies"),
        "distributed.worker.memory.target": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="500MiB",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        a_address, b_address = sorted(client.scheduler_info()["workers"])
        pids = client.run(os.getpid)
        a = client.submit(job["make"], b"a", 150 * MiB, workers=[a_address])
        b = client.submit(job["make"], b"b", 120 * MiB, workers=[b_address])
        combined = client.submit(job["combine"], a, b)
        assert combined.result() == 270 * MiB
        assert client.who_has(combined)[combined.key] == (a_address,)
        _wait_single_copy(client, b.key, b_address)

        with pytest.raises(cluster_hook.CaptureError) as info:
            cluster_hook.capture(combined)

        message = str(info.value)
        assert "\n" not in message
        assert message == (
            f"cannot capture {combined.key!r}: its input {b.key!r} was not fetched to "
            f"{a_address}: fetching it (120 MiB) would push the worker writing the snapshot "
            "past its memory restart threshold; release other values held there or give the "
            "workers a larger memory limit, then capture again"
        )
        # Refused before anything was fetched or written: no file, not even a temporary one.
        assert not directory.exists() or not any(directory.rglob("*"))
        assert not (tmp_path / "client-copies").exists() or not any(
            (tmp_path / "client-copies").rglob("*.dask-snapshot")
        )
        # The writer is alive (the same process: the nanny did not restart it), its value
        # is still in memory, nothing was fetched, and the cluster still computes.
        assert client.run(os.getpid) == pids
        assert client.who_has([a, b]) == {a.key: (a_address,), b.key: (b_address,)}
        assert client.submit(job["inc"], 1).result() == 2
        # Afterwards a small task is captured as usual (Dask places it: A or B writes).
        del b, combined
        small = client.submit(job["inc"], 41)
        assert small.result() == 42
        assert cluster_hook.capture(small).is_file()
        # ... written into the directory checked above (the workers' snapshot.directory).
        assert len(list(directory.glob("*" + snapshot.SNAPSHOT_SUFFIX))) == 1


def _wait_single_copy(client: Client, key: str, holder: str) -> None:
    """Wait (bounded) until the Active Memory Manager has dropped the extra copies of ``key``."""
    deadline = time.monotonic() + 60
    while client.who_has()[key] != (holder,):
        assert time.monotonic() < deadline, client.who_has()
        time.sleep(0.1)
