"""``@snapshot.capture``: a wrapper with the function's own parameters, where it can.

A function without ``*args`` or ``**kwargs`` gets a wrapper generated for its
signature (``snapshot._capture.exact``), with its defaults: cheaper per call
than the generic ``*args, **kwargs`` one.  What
a user sees must not change: the same results, the same exception object with
the same traceback (no frame of ours), the note, a snapshot whose call re-runs
to the same failure; the other signatures keep the generic wrapper and behave
the same.  Each failure here is captured for real, into ``tmp_path``.
"""

from __future__ import annotations

import inspect
import pickle
import traceback
from pathlib import Path
from typing import Any

import pytest

import snapshot
from snapshot._capture.exact import FILENAME


def _divide(x, y):
    """Divides."""
    return x / y


def _positional_only(x, /, y):
    return x / y


def _no_parameters():
    return 1 / 0


def _with_default(x, y=0):
    return x / y


def _keyword_default(x, *, y=0):
    return x / y


def _star(*args, **kwargs):
    return args[0] / kwargs["y"]


def _keyword_only(x, *, y):
    return x / y


def _reserved(__snapshot_func, y):
    return __snapshot_func / y


@snapshot.capture
def divided(x, y):
    return x / y


def _snapshots(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{snapshot.SNAPSHOT_SUFFIX}"))


def _fail(func: Any, *args: Any, **kwargs: Any) -> ZeroDivisionError:
    with pytest.raises(ZeroDivisionError) as info:
        func(*args, **kwargs)
    return info.value


def test_a_plain_signature_gets_its_own_parameters_and_behaves_the_same(tmp_path: Path) -> None:
    f = snapshot.capture(directory=str(tmp_path))(_divide)
    assert f.__code__.co_filename == FILENAME  # the generated wrapper
    assert f.__code__.co_varnames[:2] == ("x", "y") and not f.__code__.co_flags & 0x0C
    assert (f.__name__, f.__qualname__, f.__doc__) == ("_divide", "_divide", "Divides.")
    assert inspect.signature(f) == inspect.signature(_divide) and f.__wrapped__ is _divide
    # A decorated module-level function pickles by reference (process pools).
    assert pickle.loads(pickle.dumps(divided)) is divided and divided(1, 2) == 0.5
    assert (f(1, 2), f(1, y=4), f(x=3, y=4)) == (0.5, 0.25, 0.75)
    assert _snapshots(tmp_path) == []

    exc = _fail(f, 6, y=0)
    plain = _fail(_divide, 6, 0)
    # The traceback is the undecorated one's: the caller's frame, then the function's.
    ours = [(s.name, s.line) for s in traceback.extract_tb(exc.__traceback__)]
    theirs = [(s.name, s.line) for s in traceback.extract_tb(plain.__traceback__)]
    assert ours[-1] == theirs[-1] == ("_divide", "return x / y")
    assert FILENAME not in "".join(traceback.format_exception(exc))
    (path,) = _snapshots(tmp_path)
    host = snapshot.read_manifest(path)["origin"]["host"]
    assert exc.__notes__ == [f"dask-replay: snapshot written to {host}:{path}"]
    func, args, kwargs = snapshot.open_snapshot(path).call()
    assert func is _divide and (args, kwargs) == ([6, 0], {})  # by position
    with pytest.raises(ZeroDivisionError):
        func(*args, **kwargs)
    frames = snapshot.read_model(path).frames
    assert [f.function for f in frames] == ["_divide"]


@pytest.mark.parametrize("func", [_divide, _with_default, _keyword_only, _reserved])
def test_a_call_that_does_not_bind_raises_as_the_undecorated_function_does(
    tmp_path: Path, func: Any
) -> None:
    """Whichever wrapper: the function never ran, so there is nothing to capture."""
    f = snapshot.capture(directory=str(tmp_path))(func)
    for args, kwargs in (((), {}), ((1, 2, 3), {}), ((1, 2), {"z": 3}), ((1,), {"x": 2})):
        with pytest.raises(TypeError) as ours:
            f(*args, **kwargs)
        with pytest.raises(TypeError) as theirs:
            func(*args, **kwargs)
        assert str(ours.value) == str(theirs.value)
        assert not getattr(ours.value, "__notes__", None)
    assert _snapshots(tmp_path) == []


def test_a_builtin_that_raises_is_still_captured(tmp_path: Path) -> None:
    """A builtin has no frame of its own: its error is its failure, not a bad call."""
    import math

    f = snapshot.capture(directory=str(tmp_path))(math.sqrt)
    with pytest.raises(ValueError) as info:
        f(-1)
    (path,) = _snapshots(tmp_path)
    assert str(path) in info.value.__notes__[0]


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "generated", "called"),
    [
        (_positional_only, (1,), {"y": 0}, True, ([1, 0], {})),
        (_no_parameters, (), {}, True, ([], {})),
        # The recorded call passes the defaults too: it binds as the original did.
        (_with_default, (1,), {}, True, ([1, 0], {})),
        (_keyword_only, (1,), {"y": 0}, True, ([1], {"y": 0})),
        (_keyword_default, (), {"x": 1}, True, ([1], {"y": 0})),
        # *args/**kwargs, or a parameter named like the generated code's own: generic.
        (_star, (1,), {"y": 0}, False, ([1], {"y": 0})),
        (_reserved, (1,), {"y": 0}, False, ([1], {"y": 0})),
    ],
)
def test_each_signature_captures_its_failure(
    tmp_path: Path,
    func: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    generated: bool,
    called: tuple[list[Any], dict[str, Any]],
) -> None:
    f = snapshot.capture(directory=str(tmp_path))(func)
    assert (f.__code__.co_filename == FILENAME) is generated
    assert inspect.signature(f) == inspect.signature(func)
    if generated:  # its own parameters, defaults and kinds, not only __wrapped__'s
        assert inspect.signature(f, follow_wrapped=False) == inspect.signature(func)
    exc = _fail(f, *args, **kwargs)
    (path,) = _snapshots(tmp_path)
    assert len(exc.__notes__) == 1 and str(path) in exc.__notes__[0]
    assert [s.name for s in traceback.extract_tb(exc.__traceback__)][-1] == func.__name__
    loaded, *call = snapshot.open_snapshot(path).call()
    assert loaded is func and tuple(call) == called


def test_a_method_gets_its_own_parameters_too(tmp_path: Path) -> None:
    class Ratio:
        @snapshot.capture(directory=str(tmp_path))
        def of(self, x, y):
            return x / y

    assert Ratio.of.__code__.co_filename == FILENAME
    assert Ratio().of(1, 2) == 0.5
    _fail(Ratio().of, 1, 0)
    (path,) = _snapshots(tmp_path)
    assert snapshot.read_model(path).error is not None


def test_interrupts_pass_through_uncaptured(tmp_path: Path) -> None:
    def interrupted(x):
        raise KeyboardInterrupt

    f = snapshot.capture(directory=str(tmp_path))(interrupted)
    assert f.__code__.co_filename == FILENAME
    with pytest.raises(KeyboardInterrupt):
        f(1)
    assert _snapshots(tmp_path) == []
