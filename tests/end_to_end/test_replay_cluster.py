"""Failures captured by a real LocalCluster, replayed by ``python -m replay`` once it is closed.

One cluster (workers in processes, the hook enabled through Dask config) runs
every scenario; the replays happen after it has been closed, each in a new
process, from a directory other than the test's, with pdb driven through stdin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import pytest

NOTE = "dask-replay: snapshot written to "
INPUTS = [9, 4, 2, 76, 2, 1, 5]
LAB_MODULE = "lab_only_tasks_e2e"


# The job's functions, compiled as a client's __main__ script would define them:
# their module is not importable anywhere else, so distributed sends them with
# cloudpickle, by value, and the replaying process needs nothing but the file.
JOB_SOURCE = """\
import os

import numpy as np


def dec(x):
    return x - 1


def recip(x):
    return 1 / x


def check_partition(part):
    negative = part[part["amount"] < 0]
    if len(negative):
        raise ValueError(f"{len(negative)} negative amounts")
    return part


def block_log(block):
    smallest = block.min()
    if smallest <= 0:
        raise ValueError(f"log of a non-positive value: {smallest}")
    return np.log(block)


def call_service(x, flag):
    if os.path.exists(flag):
        raise ConnectionError("service unavailable")
    return x * 2
"""


def _job() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "client_script_e2e"}
    exec(compile(JOB_SOURCE, "/client/home/analysis.py", "exec"), namespace)
    return namespace


def _snapshot_of(exc: BaseException) -> Path:
    """The file named by the note cluster_hook adds to the exception the client gets."""
    for note in getattr(exc, "__notes__", []):
        if note.startswith(NOTE):
            return Path(note[len(NOTE) :].partition(":")[2])
    raise AssertionError(f"no snapshot note on {exc!r}: {getattr(exc, '__notes__', None)}")


def _failure(compute) -> Path:
    with pytest.raises(Exception) as info:
        compute()
    return _snapshot_of(info.value)


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Run every scenario on one cluster; close it; yield {scenario: snapshot path}."""
    import dask.array as da
    import dask.bag as db
    import dask.dataframe as dd
    from dask import delayed
    from dask.distributed import Client, LocalCluster

    root = tmp_path_factory.mktemp("cluster")
    directory = root / "snapshots"
    lab = root / "lab"
    lab.mkdir()
    lab_file = lab / f"{LAB_MODULE}.py"
    lab_file.write_text("def scale(x, factor):\n    ratio = factor / x\n    return ratio\n")
    flag = root / "service-down"
    flag.touch()

    job = _job()
    dec, recip = job["dec"], job["recip"]
    sys.path.insert(0, str(lab))
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": str(directory),
        "snapshot.max-per-fingerprint": 100,
    }
    found: dict[str, Path] = {}
    try:
        with (
            dask.config.set(config),
            LocalCluster(
                n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            out = delayed(sum)([delayed(recip)(delayed(dec)(x)) for x in INPUTS])
            found["delayed"] = _failure(lambda: client.compute(out).result())

            futs = client.map(recip, client.map(dec, INPUTS))
            total = client.submit(sum, futs)
            found["futures"] = _failure(lambda: client.gather(total))

            bag = db.from_sequence(INPUTS, npartitions=3).map(dec).map(recip)
            found["bag"] = _failure(lambda: client.compute(bag.sum()).result())

            frame = pd.DataFrame({"amount": [3.0, 1.5, -2.0, 4.0], "id": [1, 2, 3, 4]})
            ddf = dd.from_pandas(frame, npartitions=2).map_partitions(
                job["check_partition"], meta=frame
            )
            found["dataframe"] = _failure(lambda: client.compute(ddf).result())

            array = da.from_array(np.array([4.0, 2.0, 1.0, 0.0, 3.0, 5.0]), chunks=3)
            logs = array.map_blocks(job["block_log"], dtype=float)
            found["array"] = _failure(lambda: client.compute(logs).result())

            client.upload_file(str(lab_file))
            import lab_only_tasks_e2e  # type: ignore[import-not-found]

            found["module"] = _failure(
                lambda: client.submit(lab_only_tasks_e2e.scale, 0, 3).result()
            )

            found["flaky"] = _failure(
                lambda: client.submit(job["call_service"], 21, str(flag)).result()
            )
    finally:
        sys.path.remove(str(lab))
        sys.modules.pop(LAB_MODULE, None)
    flag.unlink()  # the "service" is back by the time we replay
    for path in found.values():
        assert path.is_file(), path
    yield found


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    return tmp_path


def replay(args: list[str], cwd: Path, stdin: str = "q\n") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONBREAKPOINT"}
    return subprocess.run(
        [sys.executable, "-m", "replay", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("scenario", ["delayed", "futures", "bag"])
def test_seed_failures_print_x_equals_0(
    snapshots: dict[str, Path], elsewhere: Path, scenario: str
) -> None:
    result = replay([str(snapshots[scenario])], elsewhere, stdin="p x\nq\n")
    assert result.returncode == 1, result.stderr
    assert "(Pdb) 0\n" in result.stdout
    assert "Reproduced: ZeroDivisionError: division by zero" in result.stdout


def test_dataframe_partition(snapshots: dict[str, Path], elsewhere: Path) -> None:
    result = replay(
        [str(snapshots["dataframe"])],
        elsewhere,
        stdin="p len(negative)\np part['id'].tolist()\nq\n",
    )
    assert result.returncode == 1, result.stderr
    assert "Reproduced: ValueError: 1 negative amounts" in result.stdout
    assert "(Pdb) 1\n" in result.stdout
    assert "(Pdb) [1, 2]\n" in result.stdout or "(Pdb) [3, 4]\n" in result.stdout


def test_array_block(snapshots: dict[str, Path], elsewhere: Path) -> None:
    result = replay(
        [str(snapshots["array"])], elsewhere, stdin="p float(smallest)\np block.tolist()\nq\n"
    )
    assert result.returncode == 1, result.stderr
    assert "Reproduced: ValueError: log of a non-positive value: 0.0" in result.stdout
    assert "(Pdb) 0.0\n" in result.stdout
    assert "(Pdb) [0.0, 3.0, 5.0]\n" in result.stdout


def test_module_missing_here_is_named(snapshots: dict[str, Path], elsewhere: Path) -> None:
    result = replay([str(snapshots["module"])], elsewhere)
    assert result.returncode == 4
    assert result.stderr.splitlines()[-1].startswith("Error: ")
    assert f"Warning: version differs: {LAB_MODULE} was on the worker" in result.stderr
    assert LAB_MODULE in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    info = replay(["info", str(snapshots["module"])], elsewhere)
    assert info.returncode == 0
    assert f"{LAB_MODULE} " in info.stdout  # listed among the modules the pickles import


def test_failure_that_does_not_reproduce(snapshots: dict[str, Path], elsewhere: Path) -> None:
    path = str(snapshots["flaky"])
    rerun = replay([path, "--no-debug"], elsewhere)
    assert rerun.returncode == 0, rerun.stderr
    assert "Not reproduced: the call returned 42" in rerun.stdout
    frames = replay([path, "--frames"], elsewhere, stdin="p x, flag\nq\n")
    assert frames.returncode == 0, frames.stderr
    assert "(Pdb) (21, " in frames.stdout and "service-down" in frames.stdout


def test_list_and_info_after_the_cluster_is_gone(
    snapshots: dict[str, Path], elsewhere: Path
) -> None:
    directory = snapshots["delayed"].parent
    listing = replay(["list", str(directory)], elsewhere)
    assert listing.returncode == 0
    assert len(listing.stdout.splitlines()) == len(snapshots)
    info = replay(["info", str(snapshots["bag"])], elsewhere)
    assert info.returncode == 0
    assert "ZeroDivisionError: division by zero" in info.stdout
