"""Find the innermost user call of a failed task, from the traceback.

A task's run_spec often hides the user's function: fused array and bag tasks
run ``_execute_subgraph(inner_graph, ...)``, DataFrame ``map_partitions`` runs
``apply_and_enforce(*parts, _func=user_func, _meta=...)``, bag ``map`` runs
``reify(_MapChunk(user_func, ...))``.  Rather than re-implementing how each of
those evaluates its inner graph (which changes between dask releases), we read
the answer off the live traceback: every place where dask hands arguments to a
function keeps the function and the *resolved* arguments in its frame's
locals.  The innermost such frame is the call that raised, with exactly the
values it was given.  Frames are recognised by code-object identity, not by
file name, so a moved or renamed dask module degrades to the fallback (replay
the whole run_spec) instead of misreading a frame.

The call's ``origin`` (the manifest's ``call.origin``) says where it was
found: "task" (the run_spec's own Task), "inner-task" (a task inside a fused
subgraph or nested argument), "map_partitions" (dask.dataframe/array
apply_and_enforce), "bag-map", "apply" (dask.utils.apply), or "run_spec" (the
fallback: run_spec(inputs)).

Caveat: the arguments are the objects the function received; if it mutated
them before raising, the snapshot holds the mutated state (copying every
task's arguments up front would cost every succeeding task).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from types import CodeType, FrameType, TracebackType
from typing import Any

from snapshot import LiveCall

#: Nesting walked at most to tell whether an argument is plain data.
_MAX_DEPTH = 32

Extractor = Callable[[Mapping[str, Any]], tuple[Any, tuple[Any, ...], dict[str, Any]] | None]


def _task_call(local: Mapping[str, Any]) -> tuple[Any, tuple[Any, ...], dict[str, Any]] | None:
    # dask._task_spec.Task.__call__: ``new_argspec`` exists once the arguments are
    # resolved; its absence means the error came from resolving them (a nested
    # node, found further in) rather than from ``self.func``.
    task = local.get("self")
    if "new_argspec" not in local or task is None:
        return None
    kwargs = local.get("kwargs") if getattr(task, "kwargs", None) else None
    return task.func, tuple(local["new_argspec"]), dict(kwargs or {})


def _apply_and_enforce(
    local: Mapping[str, Any],
) -> tuple[Any, tuple[Any, ...], dict[str, Any]] | None:
    # dask.{dataframe,array}.core.apply_and_enforce: ``_func`` (and ``_meta`` or
    # ``expected_ndim``) have been popped off ``kwargs`` by the time ``func`` runs.
    if "func" not in local or "args" not in local:
        return None
    return local["func"], tuple(local["args"]), dict(local.get("kwargs") or {})


def _map_chunk(local: Mapping[str, Any]) -> tuple[Any, tuple[Any, ...], dict[str, Any]] | None:
    # dask.bag.core._MapChunk.__next__: ``vals`` holds one element per iterable,
    # then the keyword values when ``nkws``.
    chunk = local.get("self")
    if "vals" not in local or chunk is None:
        return None
    vals = list(local["vals"])
    nkws = getattr(chunk, "nkws", 0)
    if nkws:
        kwargs = dict(zip(chunk.kwarg_keys, vals[-nkws:], strict=True))
        return chunk.f, tuple(vals[:-nkws]), kwargs
    return chunk.f, tuple(vals), {}


def _utils_apply(local: Mapping[str, Any]) -> tuple[Any, tuple[Any, ...], dict[str, Any]] | None:
    if "func" not in local or "args" not in local:
        return None
    return local["func"], tuple(local["args"]), dict(local.get("kwargs") or {})


def _known_frames() -> dict[CodeType, tuple[str, Extractor]]:
    """Code objects of dask's call sites, for the dask modules already imported.

    A module that is not imported cannot have a frame in the traceback, so we
    never import one here (``dask.dataframe`` alone takes a second to import).
    """
    table: dict[CodeType, tuple[str, Extractor]] = {}
    spec = sys.modules.get("dask._task_spec")
    if spec is not None:
        table[spec.Task.__call__.__code__] = ("task", _task_call)
    utils = sys.modules.get("dask.utils")
    if utils is not None and hasattr(utils, "apply"):
        table[utils.apply.__code__] = ("apply", _utils_apply)
    bag = sys.modules.get("dask.bag.core")
    if bag is not None and hasattr(bag, "_MapChunk"):
        table[bag._MapChunk.__next__.__code__] = ("bag-map", _map_chunk)
    for name in ("dask.dataframe.core", "dask.array.core"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "apply_and_enforce"):
            table[module.apply_and_enforce.__code__] = ("map_partitions", _apply_and_enforce)
    return table


def _frames(tb: TracebackType | None) -> Iterator[FrameType]:
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def innermost_call(exc: BaseException, run_spec: object, data: Mapping[Any, Any]) -> LiveCall:
    """The innermost call that raised ``exc``; ``run_spec(data)`` if none is recognised."""
    found: LiveCall | None = None
    try:
        table = _known_frames()
        for frame in _frames(exc.__traceback__):
            entry = table.get(frame.f_code)
            if entry is None:
                continue
            origin, extract = entry
            got = extract(frame.f_locals)
            if got is None:
                continue
            func, args, kwargs = got
            if origin == "task" and frame.f_locals.get("self") is not run_spec:
                origin = "inner-task"
            # bag.map(f, k=v) binds its keywords in a partial: store f(..., k=v).
            found = LiveCall(func, args, kwargs, origin).without_partial()
    except Exception:
        found = None  # an odd frame must not cost us the snapshot: fall back
    if found is not None:
        return found
    direct = _coroutine_task_call(run_spec, data)
    if direct is not None:
        return direct
    return LiveCall(run_spec, (dict(data),), {}, "run_spec")  # type: ignore[arg-type]


def _coroutine_task_call(run_spec: object, data: Mapping[Any, Any]) -> LiveCall | None:
    """An async def task: ``Task.__call__`` returned the coroutine before it raised,
    so its frame is not in the traceback: its call resolved from ``data``."""
    if not getattr(run_spec, "is_coro", False):
        return None
    return resolved_call(run_spec, data)


def resolved_call(run_spec: Any, data: Mapping[Any, Any]) -> LiveCall | None:
    """A task's call with its arguments resolved from ``data``; None when that would run code.

    A task whose arguments are plain values, dependency references and
    containers of those (``Task(sum, List(1, 1))``, ``Task(inc, TaskRef("x"))``)
    is ``func(*args, **kwargs)`` with the values it was given (origin
    ``"task"``): a replay steps into the function itself.  Any other task (a
    fused subgraph, a nested task, an alias) gives None: resolving its
    arguments would run part of it again here.
    """
    spec = sys.modules.get("dask._task_spec")
    if spec is None or type(run_spec) is not spec.Task:
        return None
    try:
        args = tuple(_resolve(spec, a, data) for a in run_spec.args)
        kwargs = {str(k): _resolve(spec, v, data) for k, v in run_spec.kwargs.items()}
    except LookupError:
        return None
    return LiveCall(run_spec.func, args, kwargs, "task").without_partial()


def _resolve(spec: Any, value: Any, data: Mapping[Any, Any]) -> Any:
    """``value`` as the task's function received it; LookupError when that means running a task."""
    if isinstance(value, spec.TaskRef):
        return data[value.key]
    if isinstance(value, spec.GraphNode):
        if not _plain(spec, value, 0):
            raise LookupError("a nested task would have to run again")
        return value({k: data[k] for k in value.dependencies})
    return value


def _plain(spec: Any, node: Any, depth: int) -> bool:
    """A data node, a reference or an alias of one (how ``submit(f, [future])`` names
    it), or a container (list, tuple, set, dict) of those: resolving it runs nothing."""
    if depth > _MAX_DEPTH:
        return False
    plain = spec.TaskRef | spec.DataNode | spec.Alias
    if isinstance(node, plain) or not isinstance(node, spec.GraphNode):
        return True
    if not isinstance(node, spec.NestedContainer):
        return False
    return all(_plain(spec, a, depth + 1) for a in (*node.args, *node.kwargs.values()))
