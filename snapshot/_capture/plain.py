"""Capture in plain Python: ``@snapshot.capture()`` on a function, ``with snapshot.capture():``.

The same core as the Dask hook's (budgets, caps, redaction, storms, atomic
writes), with plain Python's policy: the failing call is the decorated
function called with its arguments.  Settings come from where the hook's do,
read without importing dask (``config``): ``snapshot.*`` in Dask's YAML files,
``DASK_SNAPSHOT__*`` variables, then the keywords given here.

The decorator returns a plain function (``functools.wraps``), so a decorated
module-level function pickles by reference and runs in ``ProcessPoolExecutor``,
``multiprocessing.Pool`` and joblib workers; each process reads the settings
and makes its capturer on its first failure.  A call that succeeds pays for a
``try`` block and one extra call (with the function's own parameters unless
it takes ``*args`` or ``**kwargs``: ``exact``).  The exception propagates unchanged, with
the note naming the snapshot (``__notes__`` travels with it to the parent
process); a call whose arguments do not bind is not a failure of the function
(it never ran) and writes none.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import types
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import SnapshotConfigError
from .capturer import Capturer
from .config import capture_settings
from .exact import exact_wrapper
from .failure import CapturePolicy, LiveCall, TaskInfo
from .wrapper import drop_own_frame, passes_through

if TYPE_CHECKING:
    from .._write.redact import Redactor

F = TypeVar("F", bound=Callable[..., Any])

_capturers: dict[tuple[int, str], Capturer] = {}
_lock = threading.Lock()


def _capturer(overrides: dict[str, Any]) -> Capturer:
    """This process's capturer for these settings, made on first use (after a fork too)."""
    key = (os.getpid(), repr(sorted(overrides.items())))
    with _lock:
        capturer = _capturers.get(key)
        if capturer is None:
            capturer = _capturers[key] = Capturer(capture_settings(**overrides))
        return capturer


def _write(exc: BaseException, run_spec: Any, overrides: dict[str, Any], block: bool) -> None:
    """Capture ``exc`` and add the note; a settings error becomes the note, never an error."""
    try:
        capturer = _capturer(overrides)
    except SnapshotConfigError as err:
        exc.add_note(f"dask-replay: no snapshot written: {err}")
        return
    if block:
        capturer = _BlockCapturer.of(capturer)
    capturer.report(exc, capturer.capture(exc, run_spec))


class Block:
    """What ran when a ``with`` block failed: the block, named by the function holding it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<with snapshot.capture() block in {self.name}>"


def _block_task(run_spec: Any) -> TaskInfo:
    name = getattr(run_spec, "name", "block")
    return TaskInfo(key=name, prefix=name)


def _no_call(exc: BaseException, run_spec: Any, data: Any) -> LiveCall | None:
    return None  # a block is not a call: its frames and locals are the snapshot


_CODE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)


def _block_locals(frame: types.FrameType, redactor: Redactor) -> Mapping[str, Any]:
    """A function frame's locals; at module level (a script's block), its data, not its code."""
    if frame.f_locals is not frame.f_globals:
        return frame.f_locals
    return {
        name: value
        for name, value in frame.f_globals.items()
        if not name.startswith("__") and not isinstance(value, _CODE)
    }


class _BlockCapturer:
    """A capturer's settings and budgets with the policy of a block (no call to store)."""

    _by_capturer: dict[int, Capturer] = {}

    @classmethod
    def of(cls, capturer: Capturer) -> Capturer:
        with _lock:
            found = cls._by_capturer.get(id(capturer))
            if found is None:
                found = Capturer(
                    capturer.settings,
                    policy=CapturePolicy(
                        task_of=_block_task, call_of=_no_call, locals_of=_block_locals
                    ),
                )
                found.guard = capturer.guard  # one storm budget for both
                cls._by_capturer[id(capturer)] = found
            return found


class Capture:
    """``snapshot.capture(**settings)``: a decorator, or a context manager for a block."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self._overrides = overrides

    def __call__(self, func: F) -> F:
        overrides = self._overrides
        if inspect.iscoroutinefunction(func):
            return functools.wraps(func)(_async_wrapper(func, overrides))  # type: ignore[return-value]

        def failed(exc: BaseException, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            drop_own_frame(exc, (sys._getframe(1).f_code,))  # the exact wrapper's frame
            if not passes_through(exc):
                _write(exc, functools.partial(func, *args, **kwargs), overrides, False)

        # A wrapper with func's own parameters unless it takes *args or **kwargs
        # (``exact``): a call costs a third of what the generic wrapper's does.
        wrapper = exact_wrapper(func, failed) or _wrapper(func, overrides)
        return functools.wraps(func)(wrapper)  # type: ignore[return-value]

    def __enter__(self) -> Capture:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or passes_through(exc):
            return
        where = tb.tb_frame.f_code.co_qualname if tb is not None else "block"
        _write(exc, Block(where), self._overrides, True)
        # Returning None: the exception goes on, with the note.


def capture(func: F | None = None, /, **settings: Any) -> Any:
    """Write a snapshot of each failure of ``func`` (or of a ``with`` block), then raise it.

    ``@snapshot.capture`` or ``@snapshot.capture(directory="snaps", max_object_size="64 MiB")``
    on a function; ``with snapshot.capture(): ...`` around a block (its frames and
    locals are stored; there is no call to re-run: ``python -m replay --frames``).
    Keywords are ``snapshot.*`` settings in snake_case; the rest come from Dask's
    config files and ``DASK_SNAPSHOT__*`` variables, read when the first failure
    of a process is captured.
    """
    wrapper = Capture(settings)
    return wrapper(func) if func is not None else wrapper


def _wrapper(func: Callable[..., Any], overrides: dict[str, Any]) -> Callable[..., Any]:
    """The generic wrapper: any signature, each call packed into ``*args, **kwargs``."""

    def captured(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BaseException as exc:
            drop_own_frame(exc, _OWN_CODES)
            if not passes_through(exc) and not _unbound(func, exc):
                _write(exc, functools.partial(func, *args, **kwargs), overrides, False)
            raise

    return captured


def _async_wrapper(func: Callable[..., Any], overrides: dict[str, Any]) -> Callable[..., Any]:
    async def captured_async(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except BaseException as exc:
            drop_own_frame(exc, _OWN_CODES)
            if not passes_through(exc) and not _unbound(func, exc):
                _write(exc, functools.partial(func, *args, **kwargs), overrides, False)
            raise

    return captured_async


def _unbound(func: Callable[..., Any], exc: BaseException) -> bool:
    """Whether the call raised before ``func`` ran (its arguments did not bind): not
    a failure of ``func``, as with the exact wrapper, where it raises at the call.
    A Python function that ran has its frame in the traceback; a builtin has none."""
    return exc.__traceback__ is None and type(func) is types.FunctionType


_OWN_CODES = frozenset({_wrapper(len, {}).__code__, _async_wrapper(len, {}).__code__})
