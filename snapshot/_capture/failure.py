"""What the failing thread knows of one failure, and the host's rules for reading it.

:class:`CapturePolicy` holds the few rules that depend on who runs the code:
which task failed, where the user's call is, what of a frame's locals and of
the host's own task object may be stored.  Its defaults are plain Python's (a
function called with its arguments); the Dask hook passes its own
(``cluster_hook._policy``: dask's Task nodes scrubbed, its plumbing frames'
locals withheld, the innermost user call found through dask's call sites).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._write.redact import Redactor


@dataclass(frozen=True)
class LiveCall:
    """``func(*args, **kwargs)``: what a replay re-executes."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Where it came from, the manifest's ``call.origin``: "user_call" (plain
    # Python), "run_spec" (the host's task run on its inputs) or the host's own.
    origin: str = "user_call"

    def without_partial(self) -> LiveCall:
        """``partial(f, a, k=v)(*args, **kw)`` is ``f(a, *args, k=v, **kw)``: store the
        latter, so the replay calls the user's function and the keyword names are
        seen by the redactor."""
        func, args, kwargs = self.func, self.args, self.kwargs
        while type(func) is functools.partial:
            args = (*func.args, *args)
            kwargs = {**func.keywords, **kwargs}
            func = func.func
        return LiveCall(func, args, kwargs, self.origin)


@dataclass(frozen=True)
class TaskInfo:
    """What the host says about the failed unit of work (the manifest's ``task``)."""

    key: Any
    prefix: str  # the operation's name: every failure of one operation shares it
    dependencies: tuple[Any, ...] = ()
    annotations: dict[str, Any] = field(default_factory=dict)
    priority: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Failure:
    """What the failing thread knows of one failure before its capture starts."""

    exc: BaseException
    run_spec: Any  # what ran: the host's task object, or a plain call's partial
    data: Mapping[Any, Any]  # its resolved inputs, by key
    call: LiveCall | None  # None: a block ran, not a call
    task_section: dict[str, Any]
    origin: dict[str, Any]
    frames: tuple[FrameType, ...]  # the traceback's frames when the capture started
    path: Path

    @property
    def frame_ids(self) -> frozenset[int]:
        return frozenset(id(f) for f in self.frames)


def _name(func: object) -> str:
    name = getattr(func, "__qualname__", None)
    return name if isinstance(name, str) else type(func).__qualname__


def plain_task(run_spec: object) -> TaskInfo:
    """A plain call's task: named by its function."""
    func = run_spec
    while type(func) is functools.partial:
        func = func.func
    key = getattr(run_spec, "key", None)
    name = _name(func)
    return TaskInfo(key=key if key is not None else name, prefix=name)


def plain_call(exc: BaseException, run_spec: Any, data: Mapping[Any, Any]) -> LiveCall:
    """A plain call (a ``functools.partial``) as itself; anything else as ``run_spec(data)``."""
    if type(run_spec) is functools.partial:
        return LiveCall(run_spec, (), {}).without_partial()
    return LiveCall(run_spec, (dict(data),), {}, "run_spec")


def plain_locals(frame: FrameType, redactor: Redactor) -> Mapping[str, Any]:
    """Every local of a function frame; none of a module-level frame (its globals)."""
    values = frame.f_locals  # in 3.11 each read copies the fast locals into the dict
    if values is frame.f_globals:
        return {}
    return values


def _as_is(value: Any, redactor: Redactor) -> Any:
    return value  # the builder's redactor sees to plain containers


@dataclass(frozen=True)
class CapturePolicy:
    """The host's rules; plain Python's by default.

    ``task_of(run_spec)`` and ``call_of(exc, run_spec, data)`` run in the
    failing thread before the capture starts; ``locals_of(frame, redactor)``
    and ``scrub(run_spec, redactor)`` in the capture thread.
    """

    task_of: Callable[[Any], TaskInfo] = plain_task
    call_of: Callable[[BaseException, Any, Mapping[Any, Any]], LiveCall | None] = plain_call
    locals_of: Callable[[FrameType, Redactor], Mapping[str, Any]] = plain_locals
    scrub: Callable[[Any, Redactor], Any] = _as_is
