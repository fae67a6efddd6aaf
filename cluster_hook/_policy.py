"""The capture core's policy for Dask tasks: what failed, where the user's call is, what is stored.

The core (``snapshot.Capturer``) knows nothing of Dask; this module hands it
dask's rules as a :class:`snapshot.CapturePolicy`: the task as the worker's
``TaskState`` describes it (its prefix by ``key_split`` when there is none),
the innermost user call read off dask's call sites (``_unwrap``), dask's graph
nodes scrubbed of secret keyword arguments (``_scrub``), and the locals of
dask's own frames withheld where they are plumbing rather than user state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import FrameType, FunctionType
from typing import Any

from dask.utils import key_split

import snapshot
from snapshot import CapturePolicy, TaskInfo

from ._scrub import ATOMS, is_map_chunk, scrub_node
from ._unwrap import innermost_call


def task_info(ts: Any, key: Any) -> TaskInfo:
    """Read the worker's ``TaskState`` from the task's thread (it is not mutated
    while the task executes); without one, just the key."""
    try:
        return TaskInfo(
            key=ts.key,
            prefix=str(getattr(ts, "prefix", "")),
            dependencies=tuple(dep.key for dep in list(ts.dependencies)),
            annotations=dict(ts.annotations or {}),
            priority=tuple(ts.priority) if ts.priority is not None else None,
        )
    except Exception:
        return TaskInfo(key, key_split(key), (), {}, None)


def frame_locals(frame: FrameType, redactor: snapshot.Redactor) -> Mapping[str, Any]:
    """A frame's locals as stored: dask's nodes scrubbed, its plumbing withheld."""
    # dask's own frames hold Task objects (``self`` in Task.__call__), whose
    # kwargs the snapshot's redactor cannot see into: scrub_node does.  They
    # also hold helper closures (``_eval``) and iterators (bag's chains of
    # _MapChunk) that would drag the task's keyword arguments in unseen;
    # those, plumbing rather than the user's state, are withheld.
    plumbing = str(frame.f_globals.get("__name__", "")).startswith(("dask.", "distributed."))
    values = frame.f_locals
    out = None  # a copy, made at the first value that changes
    for name, value in values.items():
        if type(value) in ATOMS:  # most locals: nothing to scrub or withhold
            continue
        if plumbing and _opaque(value):
            # A plain string: it unpickles anywhere, unlike a stand-in class.
            new: Any = f"<withheld by dask-replay: {_type_name(value)}>"
        else:
            new = scrub_node(value, redactor)
        if new is not value:
            if out is None:
                out = dict(values)
            out[name] = new
    return values if out is None else out


def dask_policy(tasks: Mapping[Any, Any]) -> CapturePolicy:
    """The policy of a worker whose ``TaskState`` objects are ``tasks`` (by key)."""

    def task_of(run_spec: Any) -> TaskInfo:
        key = getattr(run_spec, "key", None)
        return task_info(tasks.get(key), key)

    return CapturePolicy(
        task_of=task_of, call_of=innermost_call, locals_of=frame_locals, scrub=scrub_node
    )


def _opaque(value: Any) -> bool:
    """A closure or an iterator: holds objects that no scrubbing can reach."""
    if isinstance(value, FunctionType):
        return value.__closure__ is not None
    return isinstance(value, Iterator) and not is_map_chunk(value)


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"
