"""Whether a replayed call returned what the task returned on the cluster, and a short diff.

Numbers, strings, lists, tuples, dicts, numpy arrays and pandas objects get a
diff a person can read in one line (the first differing item, the shapes, the
count of differing elements); anything else is compared with ``==`` and shown
by its repr.  numpy and pandas are used only when the values are theirs
(found in ``sys.modules``, never imported here).  The comparison never raises:
a value whose ``==`` fails is reported as such.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from snapshot import safe_repr

__all__ = ["compare_results"]

#: Characters of a value shown in a diff.
_SHOWN = 60


def compare_results(captured: Any, replayed: Any) -> str | None:
    """None when ``replayed`` equals ``captured``; else a short description of how it differs."""
    try:
        return _compare(captured, replayed)
    except Exception as exc:  # a value's own __eq__ or __len__ raised
        return f"cannot be compared ({type(exc).__name__}: {safe_repr(exc, _SHOWN)})"


def _compare(old: Any, new: Any) -> str | None:
    if old is new:
        return None
    kinds = (type(old), type(new))
    if _module(old) == "pandas" or _module(new) == "pandas":
        return _pandas(old, new)
    if _module(old) == "numpy" or _module(new) == "numpy":
        return _numpy(old, new)
    if type(old) is not type(new) and not all(
        issubclass(k, int | float | complex) and not issubclass(k, bool) for k in kinds
    ):
        return f"a {_type(new)} ({_shown(new)}), where the cluster returned a {_type(old)}"
    if isinstance(old, float | complex) or isinstance(new, float | complex):
        same = old == new or (_nan(old) and _nan(new))
        return None if same else f"{_shown(new)}, where the cluster returned {_shown(old)}"
    if isinstance(old, str | bytes):
        return None if old == new else _text(old, new)
    if isinstance(old, list | tuple):
        return _sequence(old, new)
    if isinstance(old, dict):
        return _mapping(old, new)
    return None if bool(old == new) else f"{_shown(new)}, where the cluster returned {_shown(old)}"


def _text(old: str | bytes, new: str | bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), None)
    if at is None:
        at = min(len(old), len(new))
    around = f"{safe_repr(new[at : at + 20], _SHOWN)} where the cluster had "
    around += safe_repr(old[at : at + 20], _SHOWN)
    return f"differs from character {at} on (length {len(new)}, was {len(old)}): {around}"


def _sequence(old: list[Any] | tuple[Any, ...], new: list[Any] | tuple[Any, ...]) -> str | None:
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        inner = _compare(a, b)
        if inner is not None:
            return f"item [{i}]: {inner}" + _lengths(old, new)
    if len(old) != len(new):
        return f"{len(new)} items, where the cluster returned {len(old)}"
    return None


def _mapping(old: dict[Any, Any], new: dict[Any, Any]) -> str | None:
    missing = [k for k in old if k not in new]
    extra = [k for k in new if k not in old]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no key {safe_repr(missing[0], _SHOWN)}")
        if extra:
            parts.append(f"a new key {safe_repr(extra[0], _SHOWN)}")
        return " and ".join(parts) + f" ({len(new)} keys, where the cluster returned {len(old)})"
    for k in old:
        inner = _compare(old[k], new[k])
        if inner is not None:
            return f"key {safe_repr(k, _SHOWN)}: {inner}"
    return None


def _numpy(old: Any, new: Any) -> str | None:
    np = sys.modules["numpy"]
    a, b = np.asarray(old), np.asarray(new)
    if a.shape != b.shape:
        return f"shape {b.shape}, where the cluster returned shape {a.shape}"
    if a.dtype != b.dtype:
        return f"dtype {b.dtype}, where the cluster returned dtype {a.dtype}"
    nan_ok = a.dtype.kind in "fc"
    if np.array_equal(a, b, equal_nan=nan_ok):
        return None
    if a.ndim == 0:
        return f"{_shown(new)}, where the cluster returned {_shown(old)}"
    differ = a != b
    if nan_ok:
        differ &= ~(np.isnan(a) & np.isnan(b))
    where = tuple(int(i) for i in np.argwhere(differ)[0])
    first = f"first at {list(where)}: {_shown(b[where])}, was {_shown(a[where])}"
    return f"{int(differ.sum())} of {a.size} elements differ ({first})"


def _pandas(old: Any, new: Any) -> str | None:
    pd = sys.modules["pandas"]
    if type(old) is not type(new):
        return f"a {_type(new)}, where the cluster returned a {_type(old)}"
    if isinstance(old, pd.DataFrame | pd.Series | pd.Index):
        if old.shape != new.shape:
            return f"shape {new.shape}, where the cluster returned shape {old.shape}"
        if old.equals(new) and _same_labels(old, new):
            return None
        testing = pd.testing
        check = {
            pd.DataFrame: testing.assert_frame_equal,
            pd.Series: testing.assert_series_equal,
        }.get(type(old), testing.assert_index_equal)
        try:
            check(old, new)
        except AssertionError as exc:
            return " ".join(str(exc).split())[:300]
        return None
    return None if bool(old == new) else f"{_shown(new)}, where the cluster returned {_shown(old)}"


def _same_labels(old: Any, new: Any) -> bool:
    names = [getattr(old, "name", None) == getattr(new, "name", None)]
    if hasattr(old, "columns"):
        names.append(list(old.columns) == list(new.columns))
    return all(names)


def _module(value: Any) -> str:
    return type(value).__module__.partition(".")[0]


def _type(value: Any) -> str:
    kind = type(value)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _lengths(old: Any, new: Any) -> str:
    return (
        "" if len(old) == len(new) else f"; {len(new)} items, where the cluster returned {len(old)}"
    )


def _shown(value: Any) -> str:
    return safe_repr(value, _SHOWN)
