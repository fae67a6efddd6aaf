"""A try block around a call, with the function's own parameters: made once per signature.

``def captured(*args, **kwargs): return func(*args, **kwargs)`` costs each call a
tuple, a dict and two calls the interpreter does not inline (a call with ``*``
and ``**``): about 1,300 instructions on CPython 3.11, where the function
alone may take a few thousand.  A wrapper with the function's own parameters
(``def captured(x): return func(x)``) is called and calls as any small function
is: about 400.  As :mod:`dataclasses` does for ``__init__``, its source is
generated and compiled once per signature (the parameters' names, how many are
positional-only), then closed over each function.

Only plain signatures get one: positional parameters without defaults, no
``*args``, ``**kwargs`` or keyword-only ones (the others keep the generic
wrapper).  Two things follow from the exact signature: a call whose arguments
do not bind raises its ``TypeError`` at the call, before the ``try``, with the
undecorated function's message (the function never ran: nothing to capture);
and the failure's recorded call passes every argument by position, which binds
them as the original call did.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

#: ``failed(exc, args)``: called in the wrapper's ``except``, before the bare ``raise``.
Failed = Callable[[BaseException, tuple[Any, ...]], None]

_FUNC, _FAILED, _EXC = "__snapshot_func", "__snapshot_failed", "__snapshot_exc"
#: Names the generated source uses: a parameter of the same name gets the generic wrapper.
_RESERVED = frozenset({_FUNC, _FAILED, _EXC, "BaseException"})
_NOT_PLAIN = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
#: The file name of the generated code (never shown: the wrapper's frame is dropped).
FILENAME = "<snapshot.capture wrapper>"


def exact_wrapper(func: Callable[..., Any], failed: Failed) -> Callable[..., Any] | None:
    """``func`` wrapped with its own parameters, or None when its signature is not plain.

    The wrapper returns what ``func`` returns; when ``func`` raises, it calls
    ``failed(exc, args)`` with the arguments by position, then re-raises ``exc``.
    """
    if type(func) is not types.FunctionType:
        return None
    code = func.__code__
    if (
        func.__defaults__
        or func.__kwdefaults__
        or code.co_kwonlyargcount
        or code.co_flags & _NOT_PLAIN
    ):
        return None
    names = code.co_varnames[: code.co_argcount]
    if _RESERVED.intersection(names):
        return None
    wrapper: Callable[..., Any] = _maker(names, code.co_posonlyargcount)(func, failed)
    return wrapper


@functools.lru_cache(maxsize=512)
def _maker(names: tuple[str, ...], positional_only: int) -> Callable[..., Any]:
    """``make(func, failed) -> wrapper`` for one signature, compiled once."""
    params = list(names)
    if positional_only:
        params.insert(positional_only, "/")
    args = ", ".join(names)
    packed = f"({args}{',' if len(names) == 1 else ''})"
    source = (
        f"def make({_FUNC}, {_FAILED}):\n"
        f"    def captured({', '.join(params)}):\n"
        f"        try:\n"
        f"            return {_FUNC}({args})\n"
        f"        except BaseException as {_EXC}:\n"
        f"            {_FAILED}({_EXC}, {packed})\n"
        f"            raise\n"
        f"    return captured\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, FILENAME, "exec"), {"BaseException": BaseException}, namespace)
    maker: Callable[..., Any] = namespace["make"]
    return maker
