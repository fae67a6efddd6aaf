"""A task that raises an exception group: the client gets the same group, and the
snapshot lists its members (spec 4.3, ``members``).

A real in-process cluster (``gen_cluster``) with the hook's plugin registered,
as ``cluster_hook.register`` does; the task gathers two failing coroutines in
an ``asyncio.TaskGroup``, which raises an ``ExceptionGroup`` of both.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from distributed import Client
from distributed.utils_test import gen_cluster
from hook_helpers import snapshot_paths_in_notes

import snapshot
from cluster_hook import SnapshotPlugin


async def _fail(kind: type[Exception], text: str) -> None:
    raise kind(text)


async def _gather() -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(_fail(ValueError, "bad value"))
        group.create_task(_fail(KeyError, "missing"))


def gather_failures(x: int) -> None:
    asyncio.run(_gather())


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_task_group_s_failure_lists_its_members(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    with pytest.raises(ExceptionGroup) as info:
        await c.submit(gather_failures, 1, key="gather-failures")
    group = info.value
    assert [type(e) for e in group.exceptions] == [ValueError, KeyError]
    (path,) = snapshot_paths_in_notes(group)
    error = snapshot.read_model(path).error
    assert error is not None and error.type == "ExceptionGroup"
    assert [(m.depth, m.module, m.type, m.message) for m in error.members] == [
        (1, "builtins", "ValueError", "bad value"),
        (1, "builtins", "KeyError", "'missing'"),
    ]
    assert error.members_omitted == 0
