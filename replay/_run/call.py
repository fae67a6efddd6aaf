"""Running the captured call here: awaited as the worker awaited it, judged against the capture.

The caller (:class:`replay.Replay`) enters the death conditions around it; a
debugger that drives the call itself (debugpy) is handed it instead.
"""

from __future__ import annotations

import inspect
import os
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import NotReplayableError
from .verdict import Outcome, judge, judge_death, judge_result

if TYPE_CHECKING:
    import snapshot

__all__ = ["Call", "call_and_judge", "finish", "has_result", "require_complete_call"]

#: ``(func, args, kwargs)`` of the failing call, unpickled.
Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

# The directory of the replay package: its frames are not the user's.
_REPLAY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def require_complete_call(model: snapshot.Manifest, path: str) -> None:
    """Raise :class:`NotReplayableError` when a part of the call was not stored.

    It would come back as a placeholder, and re-running with a placeholder
    argument proves nothing.
    """
    call = model.call
    if call is None or call.func is None:
        raise NotReplayableError(
            f"{path}: the snapshot holds no call to re-run; "
            "`--frames` opens the captured frames instead",
            path=path,
        )
    pids = [("the function", call.func)]
    pids += [(f"argument {i}", pid) for i, pid in enumerate(call.args or ())]
    pids += [(f"argument {k!r}", pid) for k, pid in (call.kwargs or {}).items()]
    for what, pid in pids:
        record = model.piece(pid)
        if record is None:
            continue  # the reader reports a dangling piece id as corrupt
        if record.status != "stored":
            raise NotReplayableError(
                f"{path}: {what} of the call was not stored "
                f"({record.status}: {record.reason or ''}), so it cannot be "
                "re-run; `--frames` opens the captured frames instead",
                path=path,
            )


def call_and_judge(
    model: snapshot.Manifest,
    call: Call,
    driven: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None,
    captured_result: Callable[[], Any] | None = None,
) -> Outcome:
    """Re-execute ``call`` (through ``driven``, a debugger's ``call``, when given), catching
    what it raises, and judge the outcome against the snapshot's ``model``: for a snapshot
    of a finished task (spec 4.13), against the value ``captured_result()`` loads."""
    func, args, kwargs = call
    exception: BaseException | None = None
    result: object = None
    try:
        if driven is not None:
            result = finish(driven(func, args, kwargs))
        else:
            result = finish(func(*args, **kwargs))
    except BaseException as exc:
        exception = exc.with_traceback(_user_frames(exc.__traceback__))
    if has_result(model) and captured_result is not None:
        return judge_result(captured_result(), exception, result)
    return judge_death(model, exception, result) or judge(model.error, exception, result)


def has_result(model: snapshot.Manifest) -> bool:
    """A snapshot asked for of a task that returned: it holds the value to compare with."""
    return model.on_demand is not None and model.on_demand.result is not None


def finish(result: Any) -> Any:
    """Await ``result`` if the call returned an awaitable (an ``async def`` task)."""
    if not inspect.isawaitable(result):
        return result
    import asyncio

    async def wait() -> Any:
        return await result

    return asyncio.run(wait())


def _user_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Drop the leading frames of replay itself and of asyncio: start at the user's code."""
    skipped = [_REPLAY + os.sep]
    asyncio = sys.modules.get("asyncio")  # not imported: no asyncio frames to skip
    where = getattr(asyncio, "__file__", None)
    if isinstance(where, str):
        skipped.append(os.path.dirname(os.path.abspath(where)) + os.sep)
    while tb is not None and tb.tb_next is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not filename.startswith(tuple(skipped)):
            break
        tb = tb.tb_next
    return tb
