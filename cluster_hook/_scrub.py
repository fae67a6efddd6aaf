"""Redacting secret-named keyword arguments inside dask graph nodes.

``snapshot.Redactor`` scrubs plain dicts, lists and tuples; it knows nothing of
dask.  A task's keyword arguments live in ``Task.kwargs`` (and a dict argument
holding dependencies becomes a ``Dict`` node whose ``args`` alternate keys and
values), so ``delayed(f)(x, api_token=...)`` would carry the token into the
snapshot twice: in the stored run_spec and in the ``self`` local of dask's
``Task.__call__`` frame.  :func:`scrub_node` returns a copy with those values
replaced by the redaction marker, and the node itself when nothing matched.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import snapshot

_MAX_DEPTH = 64
# Longer sequences are data, not graph structure: not walked (cost on failure).
_MAX_SCAN = 10_000


def scrub_node(node: Any, redactor: snapshot.Redactor) -> Any:
    """``node`` with secret-named kwargs (also in nested and fused tasks) redacted."""
    spec = sys.modules.get("dask._task_spec")
    if spec is None or not redactor.patterns or not isinstance(node, spec.GraphNode):
        return node
    return _scrub(node, redactor, spec, 0)


def _scrub(value: Any, redactor: snapshot.Redactor, spec: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, spec.Task):
        args = value.args
        if isinstance(value, spec.Dict):
            # k0, v0, k1, v1, ...: a dict literal that holds dependencies.
            flat = list(args)
            for i in range(0, len(flat) - 1, 2):
                if redactor.is_secret(flat[i]):
                    flat[i + 1] = snapshot.REDACTED
            args = tuple(flat)
        new_args = tuple(_scrub(a, redactor, spec, depth + 1) for a in args)
        new_kwargs = {
            k: snapshot.REDACTED if redactor.is_secret(k) else _scrub(v, redactor, spec, depth + 1)
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
    if type(value) is dict:
        if any(isinstance(v, spec.GraphNode) for v in value.values()):
            # A fused task's inner graph {key: node}: keys are task keys, not names.
            items = {k: _scrub(v, redactor, spec, depth + 1) for k, v in value.items()}
            return value if all(items[k] is v for k, v in value.items()) else items
        return redactor.scrub(value)
    if (type(value) is tuple or type(value) is list) and len(value) <= _MAX_SCAN:
        seq = [_scrub(v, redactor, spec, depth + 1) for v in value]
        if all(a is b for a, b in zip(seq, value, strict=True)):
            return value
        return seq if type(value) is list else tuple(seq)
    return value
