"""A try block around a call, with the function's own parameters: made once per signature.

``def captured(*args, **kwargs): return func(*args, **kwargs)`` costs each call a
tuple, a dict and two calls the interpreter does not inline (a call with ``*``
and ``**``): about 1,300 instructions on CPython 3.11, where the function
alone may take a few thousand.  A wrapper with the function's own parameters
(``def captured(x, *, k): return func(x, k=k)``) is called and calls as any
small function is: about 440.  As :mod:`dataclasses` does for ``__init__``,
its source is generated and compiled once per signature (the parameters'
names, how many are positional-only), then closed over each function; it
takes the function's defaults.

Every signature without ``*args`` or ``**kwargs`` gets one (those keep the
generic wrapper: a call with ``*`` and ``**`` either way).  Two things follow
from the exact signature: a call whose arguments do not bind raises its
``TypeError`` at the call, before the ``try``, with the undecorated function's
message (the function never ran: nothing to capture); and the failure's
recorded call passes each positional parameter by position and each
keyword-only one by keyword, defaults included, which binds them as the
original call did.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

#: ``failed(exc, args, kwargs)``: called in the wrapper's ``except``, before the bare ``raise``.
Failed = Callable[[BaseException, tuple[Any, ...], dict[str, Any]], None]

_FUNC, _FAILED, _EXC = "__snapshot_func", "__snapshot_failed", "__snapshot_exc"
#: Names the generated source uses: a parameter of the same name gets the generic wrapper.
_RESERVED = frozenset({_FUNC, _FAILED, _EXC, "BaseException"})
_NOT_PLAIN = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
#: The file name of the generated code (never shown: the wrapper's frame is dropped).
FILENAME = "<snapshot.capture wrapper>"


def exact_wrapper(func: Callable[..., Any], failed: Failed) -> Callable[..., Any] | None:
    """``func`` wrapped with its own parameters, or None for ``*args``/``**kwargs``.

    The wrapper returns what ``func`` returns; when ``func`` raises, it calls
    ``failed(exc, args, kwargs)`` with the arguments it passed, then re-raises ``exc``.
    """
    if type(func) is not types.FunctionType:
        return None
    code = func.__code__
    if code.co_flags & _NOT_PLAIN:
        return None
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if _RESERVED.intersection(names):
        return None
    make = _maker(names, code.co_posonlyargcount, code.co_kwonlyargcount)
    wrapper: Callable[..., Any] = make(func, failed)
    wrapper.__defaults__ = func.__defaults__
    wrapper.__kwdefaults__ = func.__kwdefaults__
    return wrapper


@functools.lru_cache(maxsize=512)
def _maker(names: tuple[str, ...], positional_only: int, keyword_only: int) -> Callable[..., Any]:
    """``make(func, failed) -> wrapper`` for one signature, compiled once."""
    positional = list(names[: len(names) - keyword_only])
    keywords = list(names[len(positional) :])
    params = list(positional)
    if positional_only:
        params.insert(positional_only, "/")
    if keywords:
        params += ["*", *keywords]
    passed = ", ".join([*positional, *(f"{k}={k}" for k in keywords)])
    args = f"({', '.join(positional)}{',' if len(positional) == 1 else ''})"
    kwargs = "{" + ", ".join(f"{k!r}: {k}" for k in keywords) + "}"
    source = (
        f"def make({_FUNC}, {_FAILED}):\n"
        f"    def captured({', '.join(params)}):\n"
        f"        try:\n"
        f"            return {_FUNC}({passed})\n"
        f"        except BaseException as {_EXC}:\n"
        f"            {_FAILED}({_EXC}, {args}, {kwargs})\n"
        f"            raise\n"
        f"    return captured\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, FILENAME, "exec"), {"BaseException": BaseException}, namespace)
    maker: Callable[..., Any] = namespace["make"]
    return maker
