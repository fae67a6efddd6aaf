"""What a worker's ``run`` handler answered, as the scheduler receives it.

``Scheduler.broadcast(msg={"op": "run", ...})`` hands back the worker's reply
unchanged: ``{"status": "OK", "result": Serialized}`` when the function
returned (the scheduler does not unpack the result itself), ``{"status":
"error", "exception_text": ...}`` when it raised, or the exception itself
with ``on_error="return"`` when the worker could not be reached.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_result"]


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
