"""The call a snapshot asked for re-runs: the task's function and its resolved arguments.

A task whose arguments are plain values, dependency references and containers
of those (``Task(sum, List(1, 1))``, ``Task(inc, TaskRef("x"))``) is stored as
``func(*args, **kwargs)`` with the values it was given (``call.origin``
``"task"``): a replay steps into the function itself.  Any other task (a
fused subgraph, a nested task, an alias) is stored as ``run_spec(inputs)``
(``"run_spec"``): resolving its arguments would run part of it again here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from snapshot import LiveCall

__all__ = ["task_call"]

#: Nesting walked at most to tell whether an argument is plain data.
_MAX_DEPTH = 32


def task_call(run_spec: Any, data: Mapping[Any, Any]) -> LiveCall:
    """The call to store for a task: resolved when resolving runs nothing; else the run_spec."""
    spec = sys.modules.get("dask._task_spec")
    if spec is not None and type(run_spec) is spec.Task:
        try:
            args = tuple(_resolve(spec, a, data) for a in run_spec.args)
            kwargs = {str(k): _resolve(spec, v, data) for k, v in run_spec.kwargs.items()}
        except LookupError:
            pass
        else:
            return LiveCall(run_spec.func, args, kwargs, "task").without_partial()
    return LiveCall(run_spec, (dict(data),), {}, "run_spec")


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
    """A data node, or a container (list, tuple, set, dict) of data nodes and references."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, spec.TaskRef | spec.DataNode) or not isinstance(node, spec.GraphNode):
        return True
    if not isinstance(node, spec.NestedContainer):
        return False
    return all(_plain(spec, a, depth + 1) for a in (*node.args, *node.kwargs.values()))
