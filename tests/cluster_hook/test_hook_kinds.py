"""Every kind of task fails on process workers; each failure leaves a replayable snapshot.

One ``LocalCluster(processes=True)``, enabled through the config key
``distributed.worker.preload`` as a user would, runs every kind of task
(delayed, futures, bag, array, dataframe, async, ...) once (module fixture).  After the cluster is closed, a fresh
interpreter opens every snapshot and calls its call.  Each test then checks
one scenario.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask import delayed
from distributed import Client, LocalCluster
from hook_helpers import replay_in_fresh_process, snapshot_paths_in_notes
from hook_userfuncs import (
    INPUTS,
    arecip,
    dec,
    recip,
    recip_block,
    recip_partition,
    recip_row,
)


def _seed_delayed() -> Any:
    return delayed(sum)([delayed(recip)(delayed(dec)(x)) for x in INPUTS])


def _frame() -> dd.DataFrame:
    return dd.from_pandas(pd.DataFrame({"a": INPUTS}), npartitions=2)


def _array() -> da.Array:
    return da.from_array(np.array(INPUTS), chunks=3)


SCENARIOS = {
    "delayed-compute": lambda c: _seed_delayed().compute(),
    "delayed-client-compute": lambda c: c.compute(_seed_delayed()).result(),
    "futures-chain": lambda c: c.gather(
        c.submit(sum, c.map(recip, c.map(dec, INPUTS, pure=False), pure=False))
    ),
    "bag-persist-sum": lambda c: (
        c.persist(db.from_sequence(INPUTS).map(dec).map(recip)).sum().compute()
    ),
    "dataframe-map": lambda c: (
        _frame().a.map(dec, meta=("a", int)).map(recip, meta=("a", float)).compute()
    ),
    "dataframe-map_partitions": lambda c: (
        _frame().map_partitions(recip_partition, meta=("a", float)).compute()
    ),
    "dataframe-apply": lambda c: _frame().apply(recip_row, axis=1, meta=(None, float)).compute(),
    "array-map_blocks": lambda c: (
        _array().map_blocks(dec, dtype=int).map_blocks(recip_block, dtype=float).compute()
    ),
    "array-fused-chain": lambda c: (
        ((_array() - 1).map_blocks(recip_block, dtype=float) * 2 + 1).sum().compute()
    ),
    "async-task": lambda c: c.submit(arecip, 0).result(),
    "retries": lambda c: c.submit(recip, 0, retries=2, key="recip-with-retries").result(),
}

# The call a replay makes: the user's own function, unwrapped from fused tasks,
# and where in the task it was found (snapshot.LiveCall.origin, found by cluster_hook._unwrap).
EXPECTED_CALL = {
    "delayed-compute": ("recip", "task"),
    "delayed-client-compute": ("recip", "task"),
    "futures-chain": ("recip", "task"),
    "bag-persist-sum": ("recip", "bag-map"),
    # Series.map(recip) and DataFrame.apply(recip_row): pandas calls the user's
    # function from C, so the replay calls partition.map(recip) and the
    # debugger still lands in recip with x == 0.
    "dataframe-map": ("methodcaller", "task"),
    "dataframe-map_partitions": ("recip_partition", "map_partitions"),
    "dataframe-apply": ("methodcaller", "task"),
    "array-map_blocks": ("recip_block", "inner-task"),
    "array-fused-chain": ("recip_block", "inner-task"),
    "async-task": ("arecip", "task"),
    "retries": ("recip", "task"),
    "after-restart": ("recip", "task"),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("kinds")
    errors: dict[str, BaseException | None] = {}
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "snapshot.directory": str(directory),
        # Every scenario fails in recip: one fingerprint.  Storms are tested apart.
        "snapshot.max-per-fingerprint": 100,
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        for name, scenario in SCENARIOS.items():
            try:
                scenario(client)
                errors[name] = None
            except Exception as exc:
                errors[name] = exc
        events = [msg for _, msg in client.get_events("snapshot")]
        # A nanny restart starts fresh worker processes: the preload runs again.
        client.restart()
        try:
            client.submit(recip, 0, key="recip-after-restart").result()
            errors["after-restart"] = None
        except Exception as exc:
            errors["after-restart"] = exc
        events += [msg for _, msg in client.get_events("snapshot")][len(events) :]
    paths = {name: snapshot_paths_in_notes(exc) if exc else [] for name, exc in errors.items()}
    all_paths = sorted({p for ps in paths.values() for p in ps} | {e["path"] for e in events})
    return {
        "errors": errors,
        "paths": paths,
        "events": events,
        "replayed": replay_in_fresh_process(all_paths),
        "files": sorted(p.name for p in directory.iterdir() if p.is_file()),
    }


@pytest.mark.parametrize("scenario", [*SCENARIOS, "after-restart"])
def test_failure_leaves_a_snapshot_that_replays_offline(
    outcome: dict[str, Any], scenario: str
) -> None:
    exc = outcome["errors"][scenario]
    assert isinstance(exc, ZeroDivisionError), exc
    paths = outcome["paths"][scenario]
    assert len(paths) == 1, exc.__notes__ if exc else None
    checked = outcome["replayed"][paths[0]]
    assert "failure" not in checked, checked
    assert checked["error"] == "ZeroDivisionError"
    assert checked["raised"] == "ZeroDivisionError"
    assert checked["x_zero"], checked
    assert (checked["func"], checked["origin"]) == EXPECTED_CALL[scenario], checked


def test_every_snapshot_is_published_as_an_event(outcome: dict[str, Any]) -> None:
    noted = {p for ps in outcome["paths"].values() for p in ps}
    published = {e["path"] for e in outcome["events"]}
    assert noted <= published
    assert all(e["exception"] == "builtins.ZeroDivisionError" for e in outcome["events"])
    # The files on disk are exactly the published snapshots.
    assert sorted(p.rsplit("/", 1)[1] for p in published) == outcome["files"]


def test_retries_write_one_snapshot_per_attempt(outcome: dict[str, Any]) -> None:
    attempts = sorted(e["attempt"] for e in outcome["events"] if e["key"] == "recip-with-retries")
    assert attempts == [1, 2, 3]
    # The client sees the last attempt's exception, whose note names its snapshot.
    (last,) = outcome["paths"]["retries"]
    assert outcome["replayed"][last]["task"]["attempt"] == 3
