"""Objects that cannot be pickled but can be imported: stored as a reference to their name.

A C extension's routine such as an f2py ``fortran`` object
(``scipy.linalg.lapack.dtrtrs``, which ``scipy.linalg.get_lapack_funcs``
hands out and scipy's frames hold) has no ``__reduce__`` and no
``__module__``: pickling it raises ``TypeError``, although the very object is
an attribute of an importable module.  Such an object is stored as
``getattr(<module>, "<name>")``, the module pickled by cloudpickle as an
import; replaying imports it, exactly as it would import a function pickled
by reference.

The module is found by identity, reading module dictionaries only (a module's
``__getattr__``, which may import or warn, is never called), from the
object's own ``__module__`` and name first, else by a scan of the loaded
modules indexed once per type (rebuilt when modules were loaded since).  A
public path (``scipy.linalg.lapack``) wins over a private one
(``scipy.linalg._flapack``); ``__main__`` never counts.
"""

from __future__ import annotations

import sys
import threading
from types import FunctionType
from typing import Any

#: Py_TPFLAGS_HEAPTYPE: set on classes defined in Python (and some C ones).
_HEAPTYPE = 1 << 9
#: Types whose instances the default ``object.__reduce_ex__`` may refuse.
_CANDIDATE: dict[type, bool] = {}
#: Per type: (len(sys.modules) when built, id -> (module, attribute)).
_INDEX: dict[type, tuple[int, dict[int, tuple[str, str]]]] = {}
_LOCK = threading.Lock()
_MAX_TYPES = 1024


def is_candidate(kind: type) -> bool:
    """A C type with the default reduce: its instances may be importable yet unpicklable."""
    known = _CANDIDATE.get(kind)
    if known is None:
        try:
            # Classes and Python functions are saved by name by the pickler
            # itself, never reduced.
            known = bool(
                not issubclass(kind, type)
                and kind is not FunctionType
                and not kind.__flags__ & _HEAPTYPE
                and kind.__reduce_ex__ is object.__reduce_ex__
                and kind.__reduce__ is object.__reduce__
            )
        except Exception:
            known = False
        if len(_CANDIDATE) < 65536:
            _CANDIDATE[kind] = known
    return known


def _rank(module: str) -> tuple[int, int, str]:
    """Public paths first, then shorter ones."""
    parts = module.split(".")
    return (sum(p.startswith("_") for p in parts), len(parts), module)


def find_by_name(obj: object) -> tuple[Any, str] | None:
    """``(module, attribute)`` whose attribute is ``obj`` itself, or None (never raises)."""
    try:
        own = _by_own_name(obj)
        if own is not None:
            return own
        return _by_scan(obj)
    except Exception:
        return None


def _attribute(module_name: str, name: str, obj: object) -> tuple[Any, str] | None:
    module = sys.modules.get(module_name)
    namespace = getattr(module, "__dict__", None)
    if isinstance(namespace, dict) and namespace.get(name) is obj and "." not in name:
        return module, name
    return None


def _by_own_name(obj: object) -> tuple[Any, str] | None:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if isinstance(module, str) and isinstance(name, str) and module != "__main__":
        return _attribute(module, name, obj)
    return None


def _by_scan(obj: object) -> tuple[Any, str] | None:
    kind = type(obj)
    count = len(sys.modules)
    with _LOCK:
        cached = _INDEX.get(kind)
        if cached is None or cached[0] != count:
            if len(_INDEX) >= _MAX_TYPES:
                _INDEX.clear()
            cached = (count, _index(kind))
            _INDEX[kind] = cached
    found = cached[1].get(id(obj))
    return _attribute(*found, obj) if found is not None else None


def _index(kind: type) -> dict[int, tuple[str, str]]:
    """Every module attribute of type ``kind``: id -> the best (module, name)."""
    best: dict[int, tuple[str, str]] = {}
    for module_name, module in list(sys.modules.items()):
        if not isinstance(module_name, str) or module_name in ("__main__", "__mp_main__"):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if type(value) is not kind or not isinstance(name, str):
                continue
            held = best.get(id(value))
            if held is None or _rank(module_name) < _rank(held[0]):
                best[id(value)] = (module_name, name)
    return best
