"""The source, in this client process, of the functions a snapshot's call shipped by value.

A function defined in a notebook cell or in ``__main__`` reaches the worker
by value, its file renamed ``<dynamic-code>``: the worker cannot know its
text, this process can.  :func:`client_sources` loads the snapshot's function
(the client's own code, from its own cluster), walks the by-value functions
it reaches (``snapshot.by_value_functions``, the walk replay uses too), and returns the texts this process compiled them from: the cells
IPython and ipykernel keep in ``linecache`` and the files of ``__main__``'s
functions.  A text is taken only when a definition compiled from it has the
code that ran (``snapshot.code_sha256``: bytecode, constants, names, line
table, first line), never by name alone; replay checks it again when it shows it.
"""

from __future__ import annotations

import linecache
import re
import sys
import types

import snapshot
from snapshot import by_value_functions, code_objects, code_sha256

__all__ = ["client_sources"]

# The names IPython (``<ipython-input-N-hash>``) and ipykernel give the cells they compile.
_CELL_NAME = re.compile(r"^<ipython-input-\d+-[0-9a-f]+>$|[/\\]ipykernel_\d+[/\\][^/\\]+\.py$")
_MAX_UNITS = 2_000
_MAX_TEXT = 2 * 2**20


def client_sources(opened: snapshot.Snapshot) -> dict[str, str]:
    """``{file name: text}`` of this process's sources for the call's by-value functions."""
    call = opened.model.call
    if call is None or call.func is None:
        return {}
    try:
        func = opened.load(call.func)
    except snapshot.SnapshotError:
        return {}
    wanted = {
        (c.co_name, c.co_firstlineno, code_sha256(c)) for c in _codes(by_value_functions([func]))
    }
    found: dict[str, str] = {}
    for name in _live_names():
        if not wanted:
            break
        text = "".join(linecache.getlines(name))
        if not text or len(text) > _MAX_TEXT:
            continue
        try:
            compiled = compile(text, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            continue  # a cell with IPython syntax left in it: not one of ours
        hits = {
            (c.co_name, c.co_firstlineno, code_sha256(c)) for c in code_objects(compiled)
        } & wanted
        if hits:
            found[name] = text
            wanted -= hits
    return found


def _codes(functions: list[types.FunctionType]) -> list[types.CodeType]:
    return [f.__code__ for f in functions]


def _live_names() -> list[str]:
    """The files this process compiled its own code from: cells, then ``__main__``'s."""
    names = [n for n in list(linecache.cache) if _CELL_NAME.search(n)]
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if isinstance(script, str):
        names.append(script)
    for value in list(vars(main).values()) if main is not None else []:
        if isinstance(value, types.FunctionType):
            names.append(value.__code__.co_filename)
    return list(dict.fromkeys(names))[:_MAX_UNITS]
