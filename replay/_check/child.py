"""The process ``check`` runs one snapshot in: open it, re-run its call, judge, write JSON.

The request comes on stdin (JSON: the path, the key in hex, the options, the
checker's ``sys.path``), never on the command line, where ``ps`` would show
the key.  The result goes to the file the request names, not to stdout, which
belongs to the user's code.  Whatever the call does to this process (a crash,
``os._exit``, a hang, memory) the checker survives it: it reads no result and
says what happened.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

__all__ = ["check_here", "main"]

_MAX_TRACEBACK = 20_000


def main() -> None:
    request = json.loads(sys.stdin.read())
    sys.path[:0] = [p for p in request.get("sys_path", []) if p not in sys.path]
    document = check_here(request)
    with open(request["result"], "w", encoding="utf-8") as fh:
        json.dump(document, fh)


def check_here(request: dict[str, Any]) -> dict[str, Any]:
    """Check the snapshot at ``request["path"]`` in this process; the result as JSON."""
    import snapshot

    from .._errors import NotReplayableError
    from .._fetch.remote import open_target
    from .._run.call import finish, has_result, require_complete_call
    from .._run.conditions import death_conditions, require_inputs
    from .._run.verdict import judge_death
    from .current import current_function
    from .verdicts import CheckVerdict, same_failure

    path = request["path"]
    key = bytes.fromhex(request["key"]) if request.get("key") else None
    started = time.perf_counter()
    document: dict[str, Any] = {"verdict": CheckVerdict.CANNOT_RUN.value}
    try:
        opened = open_target(path, key=key, allow_unsigned=bool(request.get("allow_unsigned")))
    except snapshot.SnapshotError as exc:
        document["reason"] = f"refused: {exc}"
        return document
    model = opened.model
    document.update(_captured(model))
    try:
        require_complete_call(model, path)
        require_inputs(model, path)
        func, args, kwargs = opened.call()
        func, document["ran"] = current_function(func, request.get("sources") or [])
    except NotReplayableError as exc:
        document["reason"] = str(exc)
        return document
    except snapshot.SnapshotError as exc:
        document["reason"] = str(exc)
        return document
    except Exception as exc:  # a piece's own code raised while unpickling or defining
        document["reason"] = f"the call cannot be loaded here: {type(exc).__name__}: {exc}"
        return document
    exception: BaseException | None = None
    result: object = None
    with death_conditions(model, request.get("memory_limit", "worker")):
        try:
            result = finish(func(*args, **kwargs))
        except BaseException as exc:
            exception = exc
    document["seconds"] = round(time.perf_counter() - started, 3)
    if exception is not None:
        # Our own frame (this function) first: the user's code starts at the next.
        tb = exception.__traceback__
        lines = traceback.format_exception(type(exception), exception, tb and tb.tb_next)
        document["traceback"] = "".join(lines)[-_MAX_TRACEBACK:]
    if has_result(model):
        document.update(_compare(opened, exception, result))
        return document
    if model.death is not None:
        outcome = judge_death(model, exception, result)
        assert outcome is not None
        if exception is None:
            document["verdict"] = CheckVerdict.FIXED.value
            document["reason"] = "the call completes under the worker's conditions"
        elif outcome.verdict.value == "reproduced":
            document["verdict"] = CheckVerdict.FAILS.value
            document["reason"] = f"dies again: {_said(exception)}"
        else:
            document["verdict"] = CheckVerdict.CHANGED.value
            document["reason"] = f"now raises {_said(exception)}"
        return document
    if exception is None:
        document["verdict"] = CheckVerdict.FIXED.value
        document["reason"] = f"returns {snapshot.safe_repr(result, 60)}"
    elif same_failure(model, exception):
        document["verdict"] = CheckVerdict.FAILS.value
        document["reason"] = f"raises {_said(exception)}{_where(exception)}"
    else:
        document["verdict"] = CheckVerdict.CHANGED.value
        document["reason"] = f"now raises {_said(exception)}{_where(exception)}"
    return document


def _compare(opened: Any, exception: BaseException | None, result: object) -> dict[str, Any]:
    """A finished task's snapshot: the same value as on the cluster, or how it differs
    (the replay's own judgement, ``judge_result``, worded for ``check``)."""
    import snapshot

    from .._run.verdict import Verdict, judge_result
    from .verdicts import CheckVerdict

    if exception is not None:
        return {"verdict": CheckVerdict.DIFFERS.value, "reason": f"now raises {_said(exception)}"}
    try:
        captured = opened.result()
    except Exception as exc:  # the result's own code raised while unpickling
        return {"reason": f"the captured result cannot be loaded here: {_said(exc)}"}
    outcome = judge_result(captured, None, result)
    if outcome.verdict is Verdict.NOT_COMPARED:
        return {
            "reason": f"the task's result was not stored ({outcome.difference}): nothing to compare"
        }
    if outcome.verdict is Verdict.SAME_RESULT:
        return {
            "verdict": CheckVerdict.SAME.value,
            "reason": f"returns {snapshot.safe_repr(result, 60)}, as on the cluster",
        }
    return {"verdict": CheckVerdict.DIFFERS.value, "reason": f"returns {outcome.difference}"}


def _captured(model: Any) -> dict[str, Any]:
    from .._describe.death import death_label

    task = model.task.key if model.task is not None else None
    error = model.error
    if model.on_demand is not None and model.error is None:
        captured = "finished (captured on demand)"
    elif model.death is not None:
        captured = f"worker died: {death_label(model)}"
    elif error is not None:
        captured = error.type or "?"
        if model.frames and model.frames[-1].function:
            captured += f" in {model.frames[-1].function}"
    else:
        captured = None
    return {
        "task": str(task) if task is not None else None,
        "captured": captured,
        "captured_traceback": error.traceback if error is not None else None,
    }


def _said(exception: BaseException) -> str:
    import snapshot

    message = snapshot.safe_str(exception, 200)
    kind = type(exception).__qualname__
    return f"{kind}: {message}" if message else kind


def _where(exception: BaseException) -> str:
    from .verdicts import raised_in

    module, function, line = raised_in(exception.__traceback__)
    if function is None:
        return ""
    return f" in {function} ({module or '?'}, line {line})"


if __name__ == "__main__":
    main()
