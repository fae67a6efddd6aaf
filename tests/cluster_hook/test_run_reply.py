"""What a worker's ``run`` handler answers, as the scheduler receives it, unpacked.

The death snapshot's writer and ``capture(future)`` send a function to one worker
with ``Scheduler.broadcast(msg={"op": "run", ...})``.  distributed hands the reply
back still serialized: reading ``reply.get("retry")`` from it, as the deaths room
once did, never saw the worker's answer (a retry asked for was never retried, and a
writer that raised counted as a success).  These replies come from real workers.
"""

from __future__ import annotations

from typing import Any

from distributed.protocol.pickle import dumps
from distributed.utils_test import gen_cluster

from cluster_hook._runreply import run_result


def _asks_for_a_retry(dask_worker: Any = None) -> dict[str, Any]:
    return {"path": None, "reason": "", "retry": True}


def _raises(dask_worker: Any = None) -> None:
    raise OSError("No space left on device")


async def _reply(scheduler: Any, function: Any) -> Any:
    [address] = list(scheduler.workers)
    replies = await scheduler.broadcast(
        msg={"op": "run", "function": dumps(function), "args": dumps(()), "wait": True},
        workers=[address],
        on_error="return",
    )
    return replies[address]


@gen_cluster(nthreads=[("", 1)])
async def test_a_workers_answer_is_read_from_the_packed_reply(s: Any, a: Any) -> None:
    reply = await _reply(s, _asks_for_a_retry)
    assert not (isinstance(reply, dict) and reply.get("retry"))  # what the old code read
    result, failed = run_result(reply)
    assert failed is None
    assert result == {"path": None, "reason": "", "retry": True}


@gen_cluster(nthreads=[("", 1)])
async def test_a_function_that_raised_is_a_failure_with_its_message(s: Any, a: Any) -> None:
    reply = await _reply(s, _raises)
    result, failed = run_result(reply)
    assert result is None
    assert failed is not None and "No space left on device" in failed


def test_a_worker_that_could_not_be_reached_is_a_failure() -> None:
    result, failed = run_result(OSError("Timed out trying to connect"))
    assert result is None and failed == "Timed out trying to connect"
