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


async def arecip_of_sum(values: list[int]) -> float:
    return 1 / sum(values)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_an_async_task_with_a_list_of_inputs_stores_its_function_and_values(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    """An async def task's call comes from the one resolver the captures use too
    (``resolved_call``): a list holding another task's result is resolved."""
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    zero = c.submit(dec, 1)
    (func, args, kwargs), opened = await _call_of(c.submit(arecip_of_sum, [zero, 0]))
    assert (func, args, kwargs) == (arecip_of_sum, [[0, 0]], {})
    assert opened.manifest["call"]["origin"] == "task"


def test_a_call_is_resolved_only_when_resolving_runs_nothing() -> None:
    from dask._task_spec import Alias, List, Task, TaskRef

    from cluster_hook._unwrap import resolved_call

    data = {"x": 1}
    call = resolved_call(Task("k", sum, List(TaskRef("x"), 2)), data)
    assert call is not None and (call.func, call.args, call.origin) == (sum, ([1, 2],), "task")
    call = resolved_call(Task("k", dec, TaskRef("x")), data)
    assert call is not None and call.args == (1,)
    # A nested task would run again here; an alias or a container is no call of a function.
    assert resolved_call(Task("k", dec, Task("inner", dec, TaskRef("x"))), data) is None
    assert resolved_call(Alias("k", "x"), data) is None
    assert resolved_call(List(TaskRef("x"), 2), data) is None
    assert resolved_call(Task("k", sum, List(TaskRef("missing"))), data) is None
    call = resolved_call(Task("k", sum, List(Alias("a", "x"), 2)), data)
    assert call is not None and call.args == ([1, 2],)
