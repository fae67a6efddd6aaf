"""Hypothesis strategies for what a failing task holds, and how to compare it after a trip.

Payloads: numpy arrays of several dtypes and layouts, pandas frames, nested
containers, exceptions with causes and notes, lambdas and closures.  Functions
are built at run time (``eval``/``exec`` in a fresh namespace), so cloudpickle
pickles them by value, as it does for a client's ``__main__``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = [
    np.dtype("bool"),
    np.dtype("int8"),
    np.dtype("uint16"),
    np.dtype("int64"),
    np.dtype("float32"),
    np.dtype("float64"),
    np.dtype("complex128"),
    np.dtype("<U6"),
    np.dtype("datetime64[ns]"),
    np.dtype(">i4"),  # big-endian
]


@st.composite
def numpy_arrays(draw: st.DrawFn) -> np.ndarray:
    """Arrays of several dtypes and shapes, C- or Fortran-ordered, or a strided view."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=6))
    array = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["C", "F", "view"]))
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "view" and array.ndim and dtype.isnative:
        # (numpy itself pickles a non-contiguous big-endian array as native-endian)
        return array[::2]
    return array


@st.composite
def data_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 8))
    columns: dict[str, Any] = {}
    for i, kind in enumerate(draw(st.lists(st.sampled_from("ifsb"), min_size=1, max_size=4))):
        if kind == "i":
            values: list[Any] = draw(
                st.lists(st.integers(-(2**40), 2**40), min_size=rows, max_size=rows)
            )
        elif kind == "f":
            values = draw(st.lists(st.floats(allow_nan=True), min_size=rows, max_size=rows))
        elif kind == "s":
            values = draw(st.lists(st.text(max_size=5), min_size=rows, max_size=rows))
        else:
            values = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
        columns[f"{kind}{i}"] = values
    frame = pd.DataFrame(columns)
    if draw(st.booleans()):
        frame.index = pd.RangeIndex(10, 10 + rows, name="idx")
    return frame


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.complex_numbers(allow_nan=False),
)

hashables = st.one_of(
    st.integers(), st.text(max_size=8), st.tuples(st.integers(), st.text(max_size=3))
)

nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(hashables, children, max_size=4),
        st.frozensets(hashables, max_size=4),
    ),
    max_leaves=20,
)

_EXCEPTION_TYPES = [ValueError, KeyError, RuntimeError, ZeroDivisionError, OSError]


@st.composite
def exceptions(draw: st.DrawFn) -> BaseException:
    """An exception with args, notes, and (not kept by pickle) a cause."""
    kind = draw(st.sampled_from(_EXCEPTION_TYPES))
    exc = kind(*draw(st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=2)))
    for note in draw(st.lists(st.text(max_size=10), max_size=2)):
        exc.add_note(note)
    if draw(st.booleans()):
        exc.__cause__ = draw(st.sampled_from(_EXCEPTION_TYPES))("cause")
    return exc


def _make_lambda(k: int) -> Any:
    return eval(f"lambda x: x * {k} + 1", {})


def _make_closure(k: int, text: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(
        "def outer(k, text):\n"
        "    offset = len(text)\n"
        "    def inner(x):\n"
        "        return (x + k) * 2 + offset\n"
        "    return inner\n",
        namespace,
    )
    return namespace["outer"](k, text)


functions = st.one_of(
    st.integers(-100, 100).map(_make_lambda),
    st.builds(_make_closure, st.integers(-100, 100), st.text(max_size=5)),
)

payloads = st.one_of(
    nested,
    numpy_arrays(),
    data_frames(),
    exceptions(),
    functions,
    st.lists(st.one_of(numpy_arrays(), nested), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(numpy_arrays(), data_frames()), max_size=3),
)


def assert_equivalent(loaded: Any, original: Any) -> None:
    """``loaded`` came back from a snapshot as ``original`` went in."""
    if isinstance(original, np.ndarray):
        assert isinstance(loaded, np.ndarray)
        assert loaded.dtype == original.dtype and loaded.shape == original.shape
        np.testing.assert_array_equal(loaded, original)
    elif isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, original)
    elif isinstance(original, BaseException):
        assert type(loaded) is type(original)
        assert loaded.args == original.args
        assert getattr(loaded, "__notes__", []) == getattr(original, "__notes__", [])
    elif callable(original) and not isinstance(original, type):
        assert callable(loaded)
        for x in (0, 3, -7):
            assert loaded(x) == original(x)
    elif isinstance(original, list | tuple):
        assert type(loaded) is type(original) and len(loaded) == len(original)
        for a, b in zip(loaded, original, strict=True):
            assert_equivalent(a, b)
    elif isinstance(original, dict):
        assert type(loaded) is dict and list(loaded) == list(original)
        for key in original:
            assert_equivalent(loaded[key], original[key])
    elif isinstance(original, float) and math.isnan(original):
        assert isinstance(loaded, float) and math.isnan(loaded)
    else:
        assert loaded == original and type(loaded) is type(original)


# -- hostile manifests ---------------------------------------------------------

#: Text a hostile file's author would try: lone surrogates, C0/C1 controls, DEL,
#: bidi overrides, escape sequences, long and empty strings.
hostile_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "\ud800", "\udc80", "\x1b[2J\x1b]0;title\x07", "\x9b31m", "\u202e", "\x7f", "\r", "\0"]
    ),
    st.text(st.characters(codec=None, categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), max_size=8),
    st.integers(1, 3000).map(lambda n: "x" * n),
)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


#: Any JSON value of any type, and values JSON decoders make that trip consumers:
#: integers of thousands of digits, floats at the edges, deep nesting.
hostile_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**4000, -(10**4000), 2**63, -1, 0, 2**64 + 1]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([1e308, -0.0, 5e-324]),
        hostile_text,
        st.integers(1, 200).map(_nested),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(hostile_text, children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(manifest: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every (key or index) path into ``manifest``, containers included."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), manifest)]
    while stack:
        path, value = stack.pop()
        if path:
            out.append(path)
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
    return sorted(out, key=repr)


@st.composite
def mutated_manifests(draw: st.DrawFn, manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` (modified in place) with one to four fields replaced, added or removed."""
    paths = _paths(manifest)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        parent: Any = manifest
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif action == "add" and isinstance(parent, dict):
                parent[draw(hostile_text)] = draw(hostile_json)
            else:
                parent[path[-1]] = draw(hostile_json)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this path
    return manifest
