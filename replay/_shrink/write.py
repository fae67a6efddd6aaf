"""The shrunk snapshot: the smallest failing call, written by ``snapshot.SnapshotBuilder``
as the worker's hook writes one, with a ``shrunk`` section (spec 4.12)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import snapshot

from .attempt import Judge
from .engine import ShrinkRefused, ShrinkResult

__all__ = ["write_shrunk"]


def write_shrunk(
    func: Callable[..., Any],
    result: ShrinkResult,
    model: snapshot.Manifest,
    source: str,
    output: str,
    judge: Judge,
    *,
    finish: Callable[[Any], Any],
    key: bytes | None,
    sources: Mapping[str, str] | None = None,
) -> None:
    """Run the shrunk call once more, here, and write its failure to ``output``.

    Every attempt ran in a child: this one is known to fail the same way.
    ``sources`` (the original's source texts) are kept, so that a by-value
    function's source is still found where its code matches.
    """
    builder = snapshot.SnapshotBuilder()
    for filename, text in (sources or {}).items():
        builder.add_source(filename, text)
    try:
        finish(func(*result.args, **result.kwargs))
    except Exception as exc:
        if not judge.same(exc):
            raise ShrinkRefused(
                f"the shrunk call raised {type(exc).__qualname__} here, not the failure kept "
                f"({judge.describe()}); nothing written"
            ) from None
        builder.capture_exception(exc, skip_frames=1)  # frame 0 is this function
    else:
        raise ShrinkRefused("the shrunk call returned here: nothing written")
    builder.set_call(func, result.args, result.kwargs)
    builder.add_inputs({})
    task = model.raw.get("task") if model.raw is not None else None
    if isinstance(task, dict):
        builder.manifest["task"] = dict(task)
    builder.manifest["shrunk"] = {
        "source": os.path.basename(source),
        "failure": judge.describe(),
        "attempts": result.attempts,
        "seconds": result.seconds,
        "complete": result.complete,
        "inputs": [
            {"path": p.path, "kind": p.kind, "before": p.before, "after": p.after}
            for p in result.parts
        ],
    }
    builder.write(output, key=key)
