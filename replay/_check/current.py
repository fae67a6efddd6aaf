"""Which version of the function runs: its module as it is now, or a by-value function's
current definition from a ``--source`` script, notebook or export.

A function cloudpickle shipped by value (defined in ``__main__`` or a notebook
cell) carries its code from the day it failed.  When a ``--source`` file
defines it (the last definition of its qualified name, at the top level of the
script, a cell or an export's section), that definition is compiled and
executed in a copy of the globals cloudpickle shipped with it, so that the
names it uses resolve as on the worker; the other top-level functions of the
same text are defined there too (helpers it calls, fixed beside it), after
its top-level imports (names the new version uses that the old one did not).
Only ``import`` and ``def``/``class`` statements run, never the rest of the
script.
"""

from __future__ import annotations

import ast
import os
import types
from collections.abc import Callable, Sequence
from typing import Any

import snapshot

from .._sources.notebook import file_units

__all__ = ["current_function"]


def current_function(
    func: Callable[..., Any], sources: Sequence[str]
) -> tuple[Callable[..., Any], str]:
    """The function to run, and a sentence saying which version it is."""
    target = getattr(func, "__func__", func)
    by_value = isinstance(target, types.FunctionType) and bool(
        snapshot.by_value_functions([target])
    )
    qualname = str(getattr(target, "__qualname__", getattr(target, "__name__", "?")))
    module = str(getattr(target, "__module__", "?"))
    if not by_value:
        loaded = _module_file(module)
        return func, f"{module}.{qualname}, imported from {loaded}"
    assert isinstance(target, types.FunctionType)
    for path in reversed(list(sources)):
        found = _definition(target, qualname, path)
        if found is not None:
            return found
    if sources:
        where = ", ".join(sources)
        return func, f"{qualname} as captured (by value): no top-level definition in {where}"
    return func, f"{qualname} as captured (by value; --source FILE runs its current definition)"


def _module_file(name: str) -> str:
    import sys

    module = sys.modules.get(name)
    where = getattr(module, "__file__", None)
    return where if isinstance(where, str) else "a module without a file"


def _definition(
    func: types.FunctionType, qualname: str, path: str
) -> tuple[Callable[..., Any], str] | None:
    units, _ = file_units(path)
    # The whole script comes first, then an export's sections or the cells: the last wins.
    for unit in reversed(units):
        try:
            tree = ast.parse(unit.text, unit.filename)
        except (SyntaxError, ValueError):
            continue
        defs = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        wanted = _find(defs, qualname.split("."))
        if wanted is None:
            continue
        imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        namespace = dict(func.__globals__)
        functions: list[ast.stmt] = [n for n in defs if not isinstance(n, ast.ClassDef)]
        if not isinstance(wanted, ast.ClassDef) and wanted in functions:
            body = functions
        else:
            body = [*functions, *[n for n in defs if isinstance(n, ast.ClassDef)]]
        module = ast.Module(body=[*imports, *body], type_ignores=[])
        code = compile(module, unit.filename, "exec")
        exec(code, namespace)
        found: Any = namespace
        for part in qualname.split("."):
            found = found.get(part) if isinstance(found, dict) else getattr(found, part, None)
        if not callable(found):
            return None
        line = getattr(wanted, "lineno", 0) + unit.offset
        origin = unit.origin if unit.origin != path else os.path.relpath(path)
        return found, f"{qualname} from {origin}, line {line} (--source)"
    return None


def _find(nodes: Sequence[ast.stmt], parts: list[str]) -> ast.stmt | None:
    """The last top-level definition of ``parts`` (``Class.method`` goes into the class)."""
    for node in reversed(nodes):
        if getattr(node, "name", None) != parts[0]:
            continue
        if len(parts) == 1:
            return node
        if isinstance(node, ast.ClassDef):
            return node if _find(node.body, parts[1:]) is not None else None
    return None
