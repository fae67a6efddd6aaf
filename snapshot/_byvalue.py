"""The functions cloudpickle shipped by value, found by one walk over live objects.

A function defined in ``__main__`` or a notebook cell travels by value, its
file renamed ``<dynamic-code>``: its source never travels with it.  The hook's
client part walks the call to send the client's texts of these functions, and
replay walks it to find them: both use this walk, so they agree on what counts.
"""

from __future__ import annotations

import functools
import itertools
import types
from collections.abc import Iterable

from ._codehash import code_objects

__all__ = ["DYNAMIC_CODE", "by_value_functions"]

#: The file name cloudpickle gives every function it pickles by value (defined in
#: ``__main__`` or a notebook): their source never travels with them.
DYNAMIC_CODE = "<dynamic-code>"

# The walk stops after this many objects: it looks through containers and
# callables, never into data.
_MAX_WALK = 20_000


def by_value_functions(roots: Iterable[object]) -> list[types.FunctionType]:
    """The functions cloudpickle shipped by value that ``roots`` reach.

    Follows functions (their globals, closures and defaults), ``functools.partial``,
    bound methods, classes defined by value, containers and Dask's task objects
    (a fused task or ``map_partitions`` hides the user's function in them), up
    to a fixed number of objects.
    """
    found: list[types.FunctionType] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack and len(seen) < _MAX_WALK:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = type(obj)
        if kind is dict:  # the common containers first: a bag partition holds 20,000
            stack.extend(_holders(itertools.islice(obj.values(), _MAX_WALK)))  # type: ignore[attr-defined]
        elif kind is list or kind is tuple:
            stack.extend(_holders(itertools.islice(obj, _MAX_WALK)))  # type: ignore[call-overload]
        elif isinstance(obj, types.FunctionType):
            if obj.__code__.co_filename == DYNAMIC_CODE:
                found.append(obj)
                names = {n for c in code_objects(obj.__code__) for n in c.co_names}
                stack.extend(v for k, v in obj.__globals__.items() if k in names)
            stack.extend(cell.cell_contents for cell in obj.__closure__ or () if _filled(cell))
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
        elif isinstance(obj, functools.partial):
            stack += [obj.func, *obj.args, *obj.keywords.values()]
        elif isinstance(obj, types.MethodType):
            stack.append(obj.__func__)
        elif isinstance(obj, (staticmethod, classmethod)):
            stack.append(obj.__func__)
        elif isinstance(obj, property):
            stack += [obj.fget, obj.fset, obj.fdel]
        elif isinstance(obj, type):
            if _defined_by_value(obj):
                stack.extend(vars(obj).values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            # Never copy a big list whole; values that hold no function are not walked
            # (a million ints or strings would use up the walk's budget at 1 us each).
            stack.extend(_holders(itertools.islice(obj, _MAX_WALK)))
        elif isinstance(obj, dict):
            stack.extend(_holders(itertools.islice(obj.values(), _MAX_WALK)))
        elif type(obj).__module__.split(".")[0] == "dask":
            stack.extend(getattr(obj, name, None) for name in ("func", "args", "kwargs", "dsk"))
    return found


#: Types whose instances hold no other object: nothing to walk into (the writer's
#: pickling plan too: such a value is planned whole).
LEAVES = frozenset({str, int, float, bool, bytes, complex, type(None)})


def _holders(items: Iterable[object]) -> list[object]:
    return [item for item in items if type(item) not in LEAVES]


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _defined_by_value(cls: type) -> bool:
    return any(
        isinstance(v, types.FunctionType) and v.__code__.co_filename == DYNAMIC_CODE
        for v in vars(cls).values()
    )
