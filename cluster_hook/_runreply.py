"""What a worker's ``run`` handler answered, as the scheduler receives it.

``Scheduler.broadcast(msg={"op": "run", ...})`` hands back the worker's reply
unchanged: ``{"status": "OK", "result": Serialized}`` when the function
returned (the scheduler does not unpack the result itself), ``{"status":
"error", "exception_text": ...}`` when it raised, or the exception itself
with ``on_error="return"`` when the worker could not be reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["TIMED_OUT", "ask_worker", "run_result"]

#: What :func:`ask_worker` gives when the worker did not answer in time.
TIMED_OUT = TimeoutError("no answer in time")


async def ask_worker(
    scheduler: Any, worker: str, function: Callable[..., Any], args: tuple[Any, ...], timeout: float
) -> Any:
    """Run ``function(*args)`` on ``worker`` (its ``run`` handler); the raw reply, as
    ``Scheduler.broadcast`` gives it, or :data:`TIMED_OUT` after ``timeout`` seconds.

    Cancelling the broadcast closes its connection (``core.send_recv``): no
    half-read answer is left for the next request.
    """
    from distributed.protocol.pickle import dumps

    message = {"op": "run", "function": dumps(function), "args": dumps(args), "wait": True}
    asked = scheduler.broadcast(msg=message, workers=[worker], on_error="return")
    try:
        replies = await asyncio.wait_for(asked, timeout)
    except TimeoutError:
        return TIMED_OUT
    return replies.get(worker)


def run_result(reply: Any) -> tuple[Any, str | None]:
    """``(result, None)`` when the function returned, else ``(None, why it did not)``."""
    if isinstance(reply, dict) and reply.get("status") == "OK":
        from distributed.protocol.serialize import Serialized, deserialize

        result = reply.get("result")
        if isinstance(result, Serialized):
            result = deserialize(result.header, result.frames)
        return result, None
    if isinstance(reply, dict):
        return None, str(reply.get("exception_text") or reply.get("status") or "no answer")
    return None, str(reply) or type(reply).__name__
