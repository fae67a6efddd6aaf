"""``cluster_hook.capture`` from an asynchronous client (``gen_cluster``): finished, failed and
pending tasks, and the one-line errors of what cannot be captured.

The workers run without the hook's plugins: a capture needs none.  The five
cases of distributed's ``recreate_task`` tests, with a synchronous client and
worker processes, are in tests/end_to_end/test_capture_on_demand.py.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import dask
import dask.bag as db
import pytest
from distributed import Client, Event, wait
from distributed.core import Status
from distributed.utils_test import gen_cluster, inc
from hook_userfuncs import recip

import cluster_hook
import replay
import snapshot
from cluster_hook import CaptureError
from cluster_hook._client.copies import client_settings, install_client

#: gen_cluster's workers run in this process: a task can wait on a plain threading.Event.
GATES = {"pending": threading.Event(), "cancelled": threading.Event(), "fails": threading.Event()}


def waits_for(gate: str, x: int) -> int:
    GATES[gate].wait(30)
    return x + 1


@gen_cluster(client=True, nthreads=[("", 1), ("", 1)])
async def test_a_finished_task_is_captured_with_await(c: Client, s: Any, a: Any, b: Any) -> None:
    x = c.submit(inc, 1)
    y = c.submit(inc, x)
    assert await y == 3
    path = await cluster_hook.capture(y)
    assert path.parent == client_settings()[0]  # snapshot.client-directory
    model = snapshot.read_model(path)
    assert model.on_demand is not None and model.on_demand.state == "finished"
    assert model.on_demand.requested_by == c.id
    outcome = replay.load(path).replay()
    assert outcome.verdict is replay.Verdict.SAME_RESULT and outcome.result == 3
    # A collection's future, from the asynchronous client too.
    bag = c.compute(db.from_sequence(range(10), npartitions=3).map(inc))
    outcome = replay.load(await cluster_hook.capture(bag)).replay()
    assert outcome.verdict is replay.Verdict.SAME_RESULT and outcome.result == list(range(1, 11))
    # Asked for at once: the key may reach the scheduler after the request does.
    submitted = c.submit(inc, 41)
    at_once = snapshot.read_model(await cluster_hook.capture(submitted))
    assert at_once.on_demand is not None and at_once.on_demand.state in ("pending", "finished")


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_failed_task_is_captured_with_its_error(c: Client, s: Any, a: Any) -> None:
    failed = c.submit(recip, 0)
    await wait(failed)
    path = await cluster_hook.capture(failed)
    model = snapshot.read_model(path)
    assert model.on_demand is not None and model.on_demand.state == "failed"
    assert model.on_demand.result is None
    assert model.error is not None and model.error.type == "ZeroDivisionError"
    assert "recip" in (model.error.traceback or "")
    assert model.call is not None and model.call.origin == "task"  # recip(0) itself
    outcome = replay.load(path).replay()
    assert outcome.verdict is replay.Verdict.REPRODUCED


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_pending_task_is_captured_when_it_has_run_with_its_inputs_kept(
    c: Client, s: Any, a: Any
) -> None:
    x = c.submit(inc, 10, key="pending-input")
    y = c.submit(waits_for, "pending", x, key="pending-task")
    await wait(x)
    del x  # nothing of the client's wants the input once y has run
    asked = asyncio.ensure_future(cluster_hook.capture(y))
    await asyncio.sleep(0.2)
    assert not asked.done()
    GATES["pending"].set()
    path = await asked
    model = snapshot.read_model(path)
    assert model.on_demand is not None and model.on_demand.state == "pending"
    # The input was wanted by the capture until the snapshot was written: not recomputed.
    assert [entry.recomputed for entry in model.inputs] == [None]
    outcome = replay.load(path).replay()
    assert outcome.verdict is replay.Verdict.SAME_RESULT and outcome.result == 12
    while "pending-input" in s.tasks and s.tasks["pending-input"].who_wants:
        await asyncio.sleep(0.01)  # and then let go of

    # Asked for before it ran, and it fails: the failure is captured.
    failing = c.submit(waits_for, "fails", "not a number", key="pending-failure")
    asked = asyncio.ensure_future(cluster_hook.capture(failing))
    await asyncio.sleep(0.1)
    GATES["fails"].set()
    model = snapshot.read_model(await asked)
    assert model.on_demand is not None and model.on_demand.state == "failed"
    assert model.error is not None and model.error.type == "TypeError"


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_what_cannot_be_captured_is_named_in_one_line(c: Client, s: Any, a: Any) -> None:
    with pytest.raises(CaptureError, match="does not know it") as info:
        await cluster_hook.capture("no-such-key", client=c)
    assert "\n" not in str(info.value) and "'no-such-key'" in str(info.value)

    failed = c.submit(recip, 0, key="blamed-input")
    after = c.submit(inc, failed, key="blamed-task")
    await wait(after)
    with pytest.raises(CaptureError, match="its input 'blamed-input' failed; capture"):
        await cluster_hook.capture(after)

    [scattered] = await c.scatter([1])
    with pytest.raises(CaptureError, match="scattered data"):
        await cluster_hook.capture(scattered)

    slow = c.submit(waits_for, "cancelled", 1, key="cancelled-task")
    await slow.cancel()
    with pytest.raises(CaptureError, match="'cancelled-task': its future was cancelled"):
        await cluster_hook.capture(slow)
    GATES["cancelled"].set()  # the cancelled task's thread ends

    # A snapshot larger than snapshot.client-max-size is written, not copied: said so.
    noise = c.submit(os.urandom, 200_000, key="noise")
    await noise
    with (
        dask.config.set({"snapshot.client-max-size": "100 KiB"}),
        pytest.raises(CaptureError, match=r"'noise' was written on .* but could not be copied"),
    ):
        await cluster_hook.capture(noise)

    # An input released with a lineage over _lineage's bounds is named, not recomputed.
    chain = c.submit(inc, 0, key="chain-0")
    for i in range(1, 12):
        chain = c.submit(inc, chain, key=f"chain-{i}")
    assert await chain == 12
    while s.tasks["chain-10"].state != "released":
        await asyncio.sleep(0.01)
    with pytest.raises(CaptureError, match="'chain-10' is released and its lost lineage is deeper"):
        await cluster_hook.capture(chain)
    # The scheduler and workers are unharmed.
    assert await c.submit(inc, 2) == 3


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_released_input_over_max_object_size_is_not_computed_again(
    c: Client, s: Any, a: Any
) -> None:
    """snapshot.max-object-size bounds what a capture recomputes, as for a death."""
    data = c.submit(os.urandom, 200_000, key="big-input")
    total = c.submit(len, data, key="its-length")
    assert await total == 200_000
    del data
    while "big-input" in s.tasks and s.tasks["big-input"].state != "released":
        await asyncio.sleep(0.01)
    with (
        dask.config.set({"snapshot.max-object-size": "100 KiB"}),
        pytest.raises(CaptureError, match=r"'big-input' is released and .*max-object-size"),
    ):
        await cluster_hook.capture(total)
    assert await c.submit(inc, 2) == 3


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_the_client_part_s_directory_receives_the_copy(
    c: Client, s: Any, a: Any, tmp_path: Any
) -> None:
    """The client part installed with a directory of its own (``register(client,
    client_directory=D)`` installs it so): an asynchronous capture keeps its copy there."""
    install_client(c, client_directory=str(tmp_path / "given"))
    path = await cluster_hook.capture(c.submit(inc, 1))
    assert path.parent == tmp_path / "given"
    assert snapshot.read_model(path).on_demand is not None


class StallsWhenPickled:
    """A value whose pickling waits for GATES["pickle"]: a writer still at work."""

    def __reduce__(self) -> tuple[Any, ...]:
        GATES["pickle"].wait(30)
        return (StallsWhenPickled, ())


def stalls_when_pickled() -> StallsWhenPickled:
    return StallsWhenPickled()


GATES["pickle"] = threading.Event()
GATES["closing-done"] = threading.Event()


class SaysWhenPickled:
    """A value whose pickling sets GATES[gate], then waits for GATES[gate + "-done"]."""

    def __init__(self, gate: str) -> None:
        self.gate = gate

    def __reduce__(self) -> tuple[Any, ...]:
        GATES[self.gate].set()
        GATES[self.gate + "-done"].wait(30)
        return (SaysWhenPickled, (self.gate,))


def stalls_until(gate: str) -> SaysWhenPickled:
    return SaysWhenPickled(gate)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_each_wait_of_a_capture_is_bounded_by_its_timeout(c: Client, s: Any, a: Any) -> None:
    # A task that has not run when the timeout expires (it waits on a distributed.Event).
    event = Event("capture-timeout-gate", client=c)
    blocked = c.submit(event.wait, 30, key="blocked-task")
    while "blocked-task" not in s.tasks or s.tasks["blocked-task"].state != "processing":
        await asyncio.sleep(0.01)
    with pytest.raises(CaptureError) as info:
        await cluster_hook.capture(blocked, timeout=0.5)
    assert str(info.value) == (
        "cannot capture 'blocked-task': it has not run within timeout=0.5 s (state "
        "'processing'); capture it again once it has, or with a larger timeout"
    )
    await event.set()
    assert await blocked is True

    # A worker that has not written the snapshot when the timeout expires (its pickling
    # waits): the capture ends with a message, the scheduler is not held up.
    stalled = c.submit(stalls_when_pickled, key="stalled-result")
    await wait(stalled)
    try:
        with pytest.raises(CaptureError) as info:
            await cluster_hook.capture(stalled, timeout=0.5)
        assert str(info.value) == (
            f"cannot capture 'stalled-result': the worker {a.address} did not write it "
            "within timeout=0.5 s (it may still be writing it into its snapshot.directory); "
            "capture again with a larger timeout, or see that worker's log"
        )
    finally:
        GATES["pickle"].set()
    assert await c.submit(inc, 2) == 3


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_capture_with_no_running_worker_says_so(c: Client, s: Any, a: Any) -> None:
    done = c.submit(inc, 1, key="done-task")
    assert await done == 2
    # Paused as the memory monitor pauses it (distributed/worker_memory.py): not running.
    a.status = Status.paused
    while s.workers[a.address].status != Status.paused:
        await asyncio.sleep(0.01)
    with pytest.raises(CaptureError) as info:
        await cluster_hook.capture(done)
    assert str(info.value) == (
        "cannot capture 'done-task': no running worker is left to write it (they are "
        "paused, closing or gone); capture again once one is running"
    )
    a.status = Status.running
    while s.workers[a.address].status != Status.running:
        await asyncio.sleep(0.01)
    assert snapshot.read_model(await cluster_hook.capture(done)).on_demand is not None


@gen_cluster(client=True, nthreads=[("", 1), ("", 1)])
async def test_a_writer_that_closes_while_writing_is_named(
    c: Client, s: Any, a: Any, b: Any
) -> None:
    GATES["closing"] = threading.Event()
    stalled = c.submit(stalls_until, "closing", key="closing-result", workers=[b.address])
    await wait(stalled)
    asked = asyncio.ensure_future(cluster_hook.capture(stalled))
    while not GATES["closing"].is_set() and not asked.done():
        await asyncio.sleep(0.01)  # the writer (b, which holds the result) is pickling it
    try:
        await b.close()
        with pytest.raises(CaptureError) as info:
            await asked
    finally:
        GATES["closing-done"].set()
    assert str(info.value) == (
        f"cannot capture 'closing-result': the worker {b.address} closed or went away while "
        "writing it (CommClosedError); capture again"
    )
    assert await c.submit(inc, 2) == 3


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_capture_is_copied_to_snapshot_upload_as_every_snapshot(
    c: Client, s: Any, a: Any
) -> None:
    with tempfile.TemporaryDirectory() as bucket:
        with dask.config.set({"snapshot.upload": f"file://{bucket}/snapshots"}):
            y = c.submit(inc, 1)
            assert await y == 2
            path = await cluster_hook.capture(y)
        [uploaded] = list((Path(bucket) / "snapshots").iterdir())
        # The worker's file, copied as written; the client's copy adds sources only.
        written = snapshot.read_model(uploaded)
        assert written.on_demand is not None and written.on_demand.state == "finished"
        assert written.task is not None and written.task.key == snapshot.read_model(path).task.key
        assert replay.load(uploaded).replay().result == 2
