"""``cluster_hook.capture(future)``: the five ``recreate_task`` cases of distributed's history.

A LocalCluster of worker processes, without the hook's plugins (capture needs
none), computes what distributed's old tests of ``Client.recreate_task_locally``
computed: a delayed ``sum([1, 1])``, a bag ``map`` over ``range(10)``, a
dataframe ``map``, an array ``sum``, futures of a synchronous client; Dask
places every task.  Each future is captured, the cluster closes, and each
snapshot is replayed in a fresh process from another directory: by the
command line (``python -m replay --no-debug``) and by ``replay.load(path).replay()``.
The functions are defined as a client's ``__main__`` defines them, so they
travel by value and the replaying process imports nothing of the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import cluster_hook
import replay
import snapshot

JOB = """\
def inc(x):
    return x + 1


def scale(x):
    return int(3628800 / (x + 1))
"""

#: The value each case's future had on the cluster, as the replay must print it.
EXPECTED = {
    "delayed": "2",
    "bag": "[1, 2, 3, 4, 5, 6, ...]",
    "array": "np.float64(100.0)",
    "futures": "3",
    "lineage": "3",
}


def _job() -> dict[str, Any]:
    job: dict[str, Any] = {"__name__": "client_script_on_demand"}
    exec(compile(JOB, "/client/home/on_demand.py", "exec"), job)
    return job


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Each case's snapshot path and the value its future had, after the cluster closed."""
    tmp = tmp_path_factory.mktemp("on-demand")
    job = _job()
    config = {
        "snapshot.directory": str(tmp / "worker-snapshots"),
        "snapshot.client-directory": str(tmp / "client-copies"),
    }
    out: dict[str, Any] = {"tmp": tmp, "paths": {}, "values": {}}
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        frame = pd.DataFrame({"a": range(10)})
        x = client.submit(job["inc"], 1)
        futures = {
            "delayed": client.compute(dask.delayed(sum)([1, 1])),
            "bag": client.compute(db.from_sequence(range(10), npartitions=4).map(job["inc"])),
            "dataframe": client.compute(
                dd.from_pandas(frame, npartitions=3).a.map(job["scale"], meta=("a", int))
            ),
            "array": client.compute(da.ones((10, 10), chunks=(5, 5)).sum()),
            "futures": client.submit(job["inc"], x),
            # An input released once its dependent ran: recomputed from its lineage.
            "lineage": client.compute(
                dask.delayed(sum)([dask.delayed(job["inc"])(1), dask.delayed(job["inc"])(0)])
            ),
        }
        distributed.wait(list(futures.values()))
        for name, future in futures.items():
            out["values"][name] = future.result()
            out["paths"][name] = cluster_hook.capture(future)
        # replay.load(future) finds the capture of a future that did not fail.
        out["loaded"] = replay.load(futures["futures"]).path
        out["futures"] = futures
    assert cluster.status.name == "closed"  # every replay below runs after it is gone
    yield out


def test_each_case_is_captured_into_the_client_directory(captured: dict[str, Any]) -> None:
    for name, path in captured["paths"].items():
        assert path.parent == captured["tmp"] / "client-copies", name
        model = snapshot.read_model(path)
        assert model.on_demand is not None and model.on_demand.state == "finished", name
        assert model.on_demand.trigger == "cluster_hook.capture"
        assert model.error is None and model.frames == ()
    assert captured["loaded"] == str(captured["paths"]["futures"])
    delayed = snapshot.read_model(captured["paths"]["delayed"])
    assert delayed.call is not None and delayed.call.origin == "task"  # sum([1, 1]) itself


def test_a_future_of_a_closed_client_is_named_with_what_to_do(captured: dict[str, Any]) -> None:
    future = captured["futures"]["delayed"]
    with pytest.raises(cluster_hook.CaptureError) as info:
        cluster_hook.capture(future)
    message = str(info.value)
    assert message.startswith(f"cannot capture {future.key!r}: its client is closed;")
    assert "\n" not in message
    # The copy made while it was open still loads by the future (found by its key).
    with dask.config.set({"snapshot.client-directory": str(captured["tmp"] / "client-copies")}):
        assert replay.load(future).path == str(captured["paths"]["delayed"])


def test_a_released_input_is_recomputed_from_its_lineage(captured: dict[str, Any]) -> None:
    model = snapshot.read_model(captured["paths"]["lineage"])
    flagged = [entry for entry in model.inputs if entry.recomputed is not None]
    assert len(model.inputs) == 2 and flagged, model.inputs
    assert flagged[0].recomputed is not None and flagged[0].recomputed.function == "inc"


@pytest.mark.parametrize("name", ["delayed", "bag", "array", "futures", "lineage"])
def test_the_command_line_replays_the_same_result_elsewhere(
    captured: dict[str, Any], name: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "replay", "--no-debug", str(captured["paths"][name])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Same result: the call returned {EXPECTED[name]}, as on the cluster." in done.stdout
    assert "capture: on demand (cluster_hook.capture), of a task that had finished" in done.stdout


def test_a_fresh_process_replays_the_dataframe_and_compares_it(
    captured: dict[str, Any], tmp_path: Path
) -> None:
    code = (
        "import sys, json, replay\n"
        "r = replay.load(sys.argv[1])\n"
        "outcome = r.replay()\n"
        "print(json.dumps({'verdict': outcome.verdict.value, 'values': list(outcome.result)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(captured["paths"]["dataframe"])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["verdict"] == "same result"
    assert result["values"] == list(captured["values"]["dataframe"])


def test_the_values_are_those_the_cluster_gave(captured: dict[str, Any]) -> None:
    values = captured["values"]
    assert values["delayed"] == 2 and values["array"] == 100 and values["futures"] == 3
    assert values["bag"] == list(range(1, 11)) and values["lineage"] == 3
    assert np.array_equal(
        values["dataframe"].to_numpy(), [int(3628800 / (i + 1)) for i in range(10)]
    )


def _env() -> dict[str, str]:
    """The replaying process: no Dask settings, the package under test importable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
