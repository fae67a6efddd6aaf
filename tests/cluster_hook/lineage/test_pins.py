"""``cluster_hook._lineage.pins``: keys our client ids want on a scheduler, counted, kept by
the scheduler's own plugin (no per-process table keyed by ``id(scheduler)``).

Captures, deaths and recoveries all keep their values in memory through it
(tests/end_to_end/test_death_lineage.py, tests/cluster_hook/ondemand/).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from distributed import Client, wait
from distributed.utils_test import gen_cluster, inc

import cluster_hook
import snapshot
from cluster_hook._lineage.pins import PinsPlugin, scheduler_pins
from cluster_hook._names import ONDEMAND_CLIENT, PINS_PLUGIN_NAME

#: gen_cluster's workers run in this process: a task can wait on a plain threading.Event.
GATE = threading.Event()


def waits(x: int) -> int:
    GATE.wait(30)
    return x + 1


def _wanted(s: Any, client: str) -> set[Any]:
    cs = s.clients.get(client)
    return {ts.key for ts in cs.wants_what} if cs is not None else set()


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_key_wanted_twice_is_kept_until_both_let_go(c: Client, s: Any, a: Any) -> None:
    x = c.submit(inc, 1, key="pinned")
    await wait(x)
    pins = scheduler_pins(s, "test-pins")
    assert pins.want(["pinned", "pinned", "unknown-key"]) == ["pinned", "pinned"]
    assert pins.want(["pinned"]) == ["pinned"]
    del x
    await asyncio.sleep(0.1)
    pins.unwant(["pinned", "pinned", "unknown-key"])  # an unknown key is ignored
    assert _wanted(s, "test-pins") == {"pinned"} and s.tasks["pinned"].state == "memory"
    pins.unwant(["pinned"])
    assert pins.counts == {} and _wanted(s, "test-pins") == set()
    while "pinned" in s.tasks:
        await asyncio.sleep(0.01)  # released, then forgotten: nothing else wants it
    pins.unwant(["pinned"])  # once more than wanted: nothing happens
    # The pin sets are the scheduler's plugin's: one per client id, the same each time.
    plugin = s.plugins[PINS_PLUGIN_NAME]
    assert isinstance(plugin, PinsPlugin) and plugin.sets == {"test-pins": pins}
    assert scheduler_pins(s, "test-pins") is pins


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_two_captures_of_one_pending_task_keep_its_input_then_let_go(
    c: Client, s: Any, a: Any
) -> None:
    x = c.submit(inc, 10, key="two-input")
    y = c.submit(waits, x, key="two-task")
    await wait(x)
    del x
    first = asyncio.ensure_future(cluster_hook.capture(y))
    second = asyncio.ensure_future(cluster_hook.capture(y))
    while scheduler_pins(s, ONDEMAND_CLIENT).counts.get("two-input") != 2:
        await asyncio.sleep(0.01)
    GATE.set()
    paths = await asyncio.gather(first, second)
    for path in paths:
        model = snapshot.read_model(path)
        assert [entry.recomputed for entry in model.inputs] == [None]  # kept, not recomputed
    # Both let go: nothing of ours wants the input any more, and nothing is left counted.
    assert scheduler_pins(s, ONDEMAND_CLIENT).counts == {}
    assert _wanted(s, ONDEMAND_CLIENT) == set()
