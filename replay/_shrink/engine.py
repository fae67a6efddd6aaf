"""Shrinking a call's inputs: each part in turn (outermost first, then what is inside
what remains), ddmin over its units, every attempt in a forked child.

The data is loaded once, by the caller; each attempt's child builds its own
candidate from it.  The search stops at the total budget with the smallest
inputs found so far: every state it keeps failed the same way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .attempt import Judge, run_attempt
from .ddmin import ddmin, positions
from .parts import children, describe_path, get, kinds, replace, size, take

__all__ = ["ShrinkRefused", "ShrinkResult", "Shrunk", "shrink_call"]

Root = tuple[tuple[Any, ...], dict[str, Any]]
Progress = Callable[[int, float, str, int], None]


class ShrinkRefused(Exception):
    """Nothing can be shrunk as asked; the message says why."""


@dataclass
class Shrunk:
    path: str
    kind: str
    before: int
    after: int


@dataclass
class ShrinkResult:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    parts: list[Shrunk] = field(default_factory=list)
    attempts: int = 0
    seconds: float = 0.0
    complete: bool = True  # False when the budget ran out first


def shrink_call(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    judge: Judge,
    *,
    finish: Callable[[Any], Any],
    timeout: float | None,
    budget: float,
    progress: Progress | None = None,
) -> ShrinkResult:
    started = time.monotonic()
    deadline = started + budget
    result = ShrinkResult(tuple(args), dict(kwargs))
    root: Root = (tuple(args), dict(kwargs))

    def attempt(candidate: Callable[[], Root]) -> bool:
        def call() -> None:
            new_args, new_kwargs = candidate()
            finish(func(*new_args, **new_kwargs))

        result.attempts += 1
        return run_attempt(call, judge, timeout)

    if not attempt(lambda: root):
        raise ShrinkRefused(
            f"the call does not fail here as it did on the worker ({judge.describe()}): "
            "nothing to shrink; `python -m replay check` says how it ends now"
        )
    queue: deque[tuple[tuple[str, Any], ...]] = deque(
        [(("arg", i),) for i in range(len(args))] + [(("kwarg", k),) for k in kwargs]
    )
    while queue and result.complete:
        path = queue.popleft()
        for kind in kinds(get(root, path)):
            if kind not in kinds(get(root, path)) or not result.complete:
                break
            root = _shrink_part(root, path, kind, attempt, result, deadline, started, progress)
        queue.extend((*path, step) for step, _ in children(get(root, path)))
    result.args, result.kwargs = root
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _shrink_part(
    root: Root,
    path: tuple[tuple[str, Any], ...],
    kind: str,
    attempt: Callable[[Callable[[], Root]], bool],
    result: ShrinkResult,
    deadline: float,
    started: float,
    progress: Progress | None,
) -> Root:
    """ddmin over the units of one part; ``root`` with the part made as small as found."""
    value = get(root, path)
    before = size(value, kind)
    label = f"{describe_path(path)} ({kind})"

    def fails(keep: Any) -> bool | None:
        if time.monotonic() > deadline:
            result.complete = False
            return None
        if progress is not None:
            progress(result.attempts, time.monotonic() - started, label, len(keep))
        return attempt(lambda: replace(root, path, take(value, kind, keep)))

    keep = ddmin(positions(before), fails)
    result.parts.append(Shrunk(describe_path(path), kind, before, len(keep)))
    return replace(root, path, take(value, kind, keep)) if len(keep) < before else root
