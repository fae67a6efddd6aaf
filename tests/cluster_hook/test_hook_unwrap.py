"""The stored call is the innermost one, with its arguments resolved: kwargs,
dependencies among them, bag map keywords, map_partitions extras, annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask
import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pytest
from dask import delayed
from distributed import Client
from distributed.utils_test import gen_cluster
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import dec, recip_partition_with, scaled_recip

import snapshot
from cluster_hook import SnapshotPlugin


async def _call_of(future: Any) -> tuple[Any, snapshot.Snapshot]:
    with pytest.raises(ZeroDivisionError) as info:
        await future
    (path,) = snapshot_paths_in_notes(info.value)
    opened = snapshot.open_snapshot(path)
    return opened.call(), opened


@gen_cluster(client=True, nthreads=[("", 2)])
async def test_innermost_calls_have_resolved_arguments(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), max_per_fingerprint=10))

    # delayed with keyword arguments, one of them another task's result.
    with dask.annotate(team="analytics"):
        value = delayed(scaled_recip)(delayed(dec)(1), scale=7, offset=delayed(dec)(1))
    (func, args, kwargs), opened = await _call_of(c.compute(value))
    assert (func, args, kwargs) == (scaled_recip, [0], {"scale": 7, "offset": 0})
    task = opened.manifest["task"]
    assert task["annotations"]["team"] == "analytics"
    assert len(task["dependencies"]) == 2 and task["prefix"] == "scaled_recip"

    # bag.map with keywords: bound in a functools.partial, stored unbound.
    bag = db.from_sequence([3, 1, 2], npartitions=1).map(scaled_recip, scale=2, offset=-1)
    (func, args, kwargs), opened = await _call_of(c.compute(bag))
    assert (func, args, kwargs) == (scaled_recip, [1], {"scale": 2, "offset": -1})
    assert opened.manifest["call"]["origin"] == "bag-map"

    # map_partitions with extra arguments: apply_and_enforce pops _func/_meta.
    frame = dd.from_pandas(pd.DataFrame({"a": [1, 0, 2]}), npartitions=1)
    mapped = frame.map_partitions(recip_partition_with, "a", offset=0, meta=("a", float))
    (func, args, kwargs), _ = await _call_of(c.compute(mapped))
    assert func is recip_partition_with
    assert isinstance(args[0], pd.DataFrame) and args[0]["a"].tolist() == [1, 0, 2]
    assert args[1:] == ["a"] and kwargs == {"offset": 0}
