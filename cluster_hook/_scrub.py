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
#: Types never walked (a str still goes through the redactor inside a container).
ATOMS = frozenset({int, float, bool, str, bytes, type(None), complex})
# The name of this walk's cache in a per-capture redactor (Redactor.capture_memo).
_MEMO = "cluster_hook.scrub_node"


class _Kinds:
    """What the walk tests against, built once per ``dask._task_spec`` module object."""

    __slots__ = ("dict_constructor", "dict_node", "graph_node", "spec", "task", "walked")

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.graph_node = spec.GraphNode
        self.task = spec.Task
        self.dict_node = spec.Dict
        self.dict_constructor = getattr(spec.Dict, "constructor", None)
        # Containers: Task.__call__'s ``new_argspec`` and ``values`` hold _MapChunks.
        self.walked = (spec.GraphNode, functools.partial, tuple, list, dict)


# One element, replaced whole (threads read it): the kinds of the module last seen.
_KINDS: list[_Kinds | None] = [None]


class _Walk:
    __slots__ = ("cut", "kinds", "left", "memo")

    def __init__(self, kinds: _Kinds, memo: dict[int, tuple[Any, Any]] | None) -> None:
        self.kinds = kinds
        self.left = _MAX_VISITS
        self.memo = memo
        self.cut = False  # a bound stopped the walk: what follows is not remembered


def scrub_node(node: Any, redactor: snapshot.Redactor) -> Any:
    """``node`` with secret-named kwargs (also in nested and fused tasks) redacted.

    Handles dask graph nodes, ``functools.partial`` and bag's ``_MapChunk``, also
    inside tuples and lists; any other object is returned as is (the snapshot's
    redactor sees to dicts).  With a per-capture redactor, a container already
    walked in this capture (a local that every frame of a recursion shares) is
    not walked again: its first result is returned.
    """
    if type(node) in ATOMS:  # most locals: nothing to walk
        return node
    spec = sys.modules.get("dask._task_spec")
    if spec is None:
        return node
    kinds = _KINDS[0]
    if kinds is None or kinds.spec is not spec:
        kinds = _Kinds(spec)
        _KINDS[0] = kinds
    if not isinstance(node, kinds.walked) and not is_map_chunk(node):
        return node
    memo = redactor.capture_memo(_MEMO)
    if memo is not None:
        hit = memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
    return _scrub(node, redactor, 0, _Walk(kinds, memo))


def is_map_chunk(value: Any) -> bool:
    bag = sys.modules.get("dask.bag.core")
    chunk = getattr(bag, "_MapChunk", None)
    return chunk is not None and type(value) is chunk


def _is_dict_node(task: Any, kinds: _Kinds) -> bool:
    # After a trip through the scheduler a ``Dict`` node may come back as a plain
    # ``Task(None, NestedContainer.to_container, k0, v0, ..., constructor=...)``.
    if isinstance(task, kinds.dict_node):
        return True
    return bool(
        task.func is kinds.spec.NestedContainer.to_container
        and task.kwargs.get("constructor") is kinds.dict_constructor
    )


def _scrub(value: Any, redactor: snapshot.Redactor, depth: int, walk: _Walk) -> Any:
    if depth > _MAX_DEPTH or walk.left <= 0:
        walk.cut = True
        return value
    walk.left -= 1
    kind = type(value)
    if kind is str:
        return redactor.scrub(value)  # a literal argument: URL passwords, the key
    if kind in ATOMS:
        return value
    memo = walk.memo
    if memo is not None:
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
    out = _scrub_container(value, kind, redactor, depth, walk)
    if memo is not None and not walk.cut:
        # Only whole walks: met again nearer the top, a cut one would go further.
        memo[id(value)] = (value, out)  # keeps ``value`` alive: its id stays its own
    return out


def _scrub_container(
    value: Any, kind: type, redactor: snapshot.Redactor, depth: int, walk: _Walk
) -> Any:
    if (kind is tuple or kind is list) and len(value) <= _MAX_SCAN:
        seq = [_scrub(v, redactor, depth + 1, walk) for v in value]
        if all(a is b for a, b in zip(seq, value, strict=True)):
            return value
        return seq if kind is list else tuple(seq)
    if kind is dict and len(value) <= _MAX_SCAN:
        # Values first: a fused task's inner graph {key: node}, execute_graph's
        # cache {key: result}.  Their keys are task keys, not names; the keys of
        # any other dict are names, for the redactor.
        items = {k: _scrub(v, redactor, depth + 1, walk) for k, v in value.items()}
        out = value if all(items[k] is v for k, v in value.items()) else items
        if any(isinstance(v, walk.kinds.graph_node) for v in value.values()):
            return out
        return redactor.scrub(out)
    if kind is functools.partial:
        func = _scrub(value.func, redactor, depth + 1, walk)
        keywords = {
            k: snapshot.REDACTED if redactor.is_secret(k) else v for k, v in value.keywords.items()
        }
        if func is value.func and all(keywords[k] is v for k, v in value.keywords.items()):
            return value
        return functools.partial(func, *value.args, **keywords)
    if isinstance(value, walk.kinds.task):
        return _scrub_task(value, redactor, depth, walk)
    if is_map_chunk(value):
        func = _scrub(value.f, redactor, depth + 1, walk)
        if func is value.f:
            return value
        clone = copy.copy(value)
        clone.f = func
        return clone
    return value


def _scrub_task(value: Any, redactor: snapshot.Redactor, depth: int, walk: _Walk) -> Any:
    args = value.args
    if _is_dict_node(value, walk.kinds):
        # k0, v0, k1, v1, ...: a dict literal that holds dependencies.
        flat = list(args)
        for i in range(0, len(flat) - 1, 2):
            if redactor.is_secret(flat[i]):
                flat[i + 1] = snapshot.REDACTED
        args = tuple(flat)
    new_args = tuple(_scrub(a, redactor, depth + 1, walk) for a in args)
    new_kwargs = {
        k: snapshot.REDACTED if redactor.is_secret(k) else _scrub(v, redactor, depth + 1, walk)
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
