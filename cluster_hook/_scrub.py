"""Redacting secret-named keyword arguments inside dask's own objects.

``snapshot.Redactor`` scrubs plain dicts, lists and tuples; it knows nothing of
dask.  A task's keyword arguments live in ``Task.kwargs`` (and a dict argument
holding dependencies becomes a ``Dict`` node whose ``args`` alternate keys and
values); ``bag.map(f, api_token=...)`` binds them in a ``functools.partial``
held by a ``_MapChunk``.  Without this module the token would reach the
snapshot through the stored run_spec and through the locals of dask's frames
(``self`` in ``Task.__call__`` and ``_MapChunk.__next__``).  :func:`scrub_node`
returns a copy with those values replaced by the redaction marker, and the
object itself when nothing matched.  Literal strings in the graph go through
the redactor too (URL passwords, the signing key).  The walk is bounded: 64
levels, containers up to 10,000 items, 100,000 values per call.
"""

from __future__ import annotations

import copy
import functools
import sys
from typing import Any

import snapshot

_MAX_DEPTH = 64
# Longer sequences are data, not graph structure: not walked (cost on failure).
_MAX_SCAN = 10_000
# Values visited per scrub_node call; past it, the rest is stored as it is.
_MAX_VISITS = 100_000
_ATOMS = frozenset({int, float, bool, str, bytes, type(None), complex})


class _Visits:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = _MAX_VISITS


def scrub_node(node: Any, redactor: snapshot.Redactor) -> Any:
    """``node`` with secret-named kwargs (also in nested and fused tasks) redacted.

    Handles dask graph nodes, ``functools.partial`` and bag's ``_MapChunk``, also
    inside tuples and lists; any other object is returned as is (the snapshot's
    redactor sees to dicts).
    """
    if type(node) in _ATOMS:  # most locals: nothing to walk
        return node
    spec = sys.modules.get("dask._task_spec")
    if spec is None:
        return node
    if isinstance(node, spec.GraphNode | functools.partial | tuple | list | dict) or is_map_chunk(
        node
    ):
        # Containers: Task.__call__'s ``new_argspec`` and ``values`` hold _MapChunks.
        return _scrub(node, redactor, spec, 0, _Visits())
    return node


def is_map_chunk(value: Any) -> bool:
    bag = sys.modules.get("dask.bag.core")
    chunk = getattr(bag, "_MapChunk", None)
    return chunk is not None and type(value) is chunk


def _is_dict_node(task: Any, spec: Any) -> bool:
    # After a trip through the scheduler a ``Dict`` node may come back as a plain
    # ``Task(None, NestedContainer.to_container, k0, v0, ..., constructor=...)``.
    if isinstance(task, spec.Dict):
        return True
    return bool(
        task.func is spec.NestedContainer.to_container
        and task.kwargs.get("constructor") is getattr(spec.Dict, "constructor", None)
    )


def _scrub(value: Any, redactor: snapshot.Redactor, spec: Any, depth: int, seen: _Visits) -> Any:
    if depth > _MAX_DEPTH or seen.left <= 0:
        return value
    seen.left -= 1
    if type(value) is functools.partial:
        func = _scrub(value.func, redactor, spec, depth + 1, seen)
        keywords = {
            k: snapshot.REDACTED if redactor.is_secret(k) else v for k, v in value.keywords.items()
        }
        if func is value.func and all(keywords[k] is v for k, v in value.keywords.items()):
            return value
        return functools.partial(func, *value.args, **keywords)
    if is_map_chunk(value):
        func = _scrub(value.f, redactor, spec, depth + 1, seen)
        if func is value.f:
            return value
        clone = copy.copy(value)
        clone.f = func
        return clone
    if isinstance(value, spec.Task):
        args = value.args
        if _is_dict_node(value, spec):
            # k0, v0, k1, v1, ...: a dict literal that holds dependencies.
            flat = list(args)
            for i in range(0, len(flat) - 1, 2):
                if redactor.is_secret(flat[i]):
                    flat[i + 1] = snapshot.REDACTED
            args = tuple(flat)
        new_args = tuple(_scrub(a, redactor, spec, depth + 1, seen) for a in args)
        new_kwargs = {
            k: snapshot.REDACTED
            if redactor.is_secret(k)
            else _scrub(v, redactor, spec, depth + 1, seen)
            for k, v in value.kwargs.items()
        }
        same_args = all(a is b for a, b in zip(new_args, value.args, strict=True))
        same_kwargs = all(new_kwargs[k] is v for k, v in value.kwargs.items())
        if same_args and same_kwargs:
            return value
        clone = copy.copy(value)
        clone.args = new_args
        clone.kwargs = new_kwargs
        clone._token = None
        clone._repr = None
        return clone
    if type(value) is dict and len(value) <= _MAX_SCAN:
        # Values first: a fused task's inner graph {key: node}, execute_graph's
        # cache {key: result}.  Their keys are task keys, not names; the keys of
        # any other dict are names, for the redactor.
        items = {k: _scrub(v, redactor, spec, depth + 1, seen) for k, v in value.items()}
        out = value if all(items[k] is v for k, v in value.items()) else items
        if any(isinstance(v, spec.GraphNode) for v in value.values()):
            return out
        return redactor.scrub(out)
    if (type(value) is tuple or type(value) is list) and len(value) <= _MAX_SCAN:
        seq = [_scrub(v, redactor, spec, depth + 1, seen) for v in value]
        if all(a is b for a, b in zip(seq, value, strict=True)):
            return value
        return seq if type(value) is list else tuple(seq)
    if type(value) is str:
        return redactor.scrub(value)  # a literal argument: URL passwords, the key
    return value
