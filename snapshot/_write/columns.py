"""Secret-named columns of tables: replaced in the stored copy, the original untouched.

A pandas ``DataFrame`` (or a ``Series`` named like a secret) and a pyarrow
``Table`` hold their values by column name, where the name rule of
:class:`~.redact.Redactor` reaches them with one look at the column names.
The copy keeps every other column as the very same memory (a shallow copy:
nothing is copied but the column index), and a secret column becomes a
column of the same length holding only the redaction marker, as a
categorical (dictionary) column of one-byte codes: it costs a byte per row
and compresses to nothing.  Neither library is imported here: a type of
theirs can only exist once its module is loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: Columns looked at per table; a wider table is stored as it is (it is data).
MAX_COLUMNS = 100_000


def scrub_columns(obj: Any, is_secret: Callable[[object], bool], marker: str) -> Any:
    """``obj`` with its secret-named columns replaced, or ``obj`` itself (never raises)."""
    kind = type(obj)
    module = kind.__module__
    try:
        if module.startswith("pandas"):
            pandas = sys.modules.get("pandas")
            if pandas is None:
                return obj
            if isinstance(obj, pandas.DataFrame):
                return _pandas_frame(obj, pandas, is_secret, marker)
            if (
                isinstance(obj, pandas.Series)
                and _secret_name(obj.name, is_secret)
                and not _pandas_redacted(obj, marker)
            ):
                return pandas.Series(
                    _pandas_marker(pandas, len(obj), marker), index=obj.index, name=obj.name
                )
        elif module.startswith("pyarrow"):
            pyarrow = sys.modules.get("pyarrow")
            if pyarrow is not None and isinstance(obj, pyarrow.Table):
                return _arrow_table(obj, pyarrow, is_secret, marker)
    except Exception:
        return obj  # a table we cannot copy is stored as it is, like any other object
    return obj


_TABLE_TYPES: dict[type, bool] = {}


def may_hold_columns(kind: type) -> bool:
    """Whether instances of ``kind`` may be tables :func:`scrub_columns` looks into (cached)."""
    known = _TABLE_TYPES.get(kind)
    if known is None:
        module = getattr(kind, "__module__", None)
        known = isinstance(module, str) and module.startswith(("pandas", "pyarrow"))
        if len(_TABLE_TYPES) < 65536:
            _TABLE_TYPES[kind] = known
    return known


def _secret_name(name: object, is_secret: Callable[[object], bool]) -> bool:
    """A column name, or a level of a MultiIndex column's tuple, that looks secret."""
    if isinstance(name, tuple):
        return any(is_secret(part) for part in name)
    return is_secret(name)


def _pandas_redacted(column: Any, marker: str) -> bool:
    """A column that holds the marker alone already (a copy made by this module)."""
    categories = getattr(column.dtype, "categories", None)
    return categories is not None and len(categories) == 1 and categories[0] == marker


def _arrow_redacted(column: Any, marker: str) -> bool:
    chunks = column.chunks
    return bool(chunks) and all(
        getattr(chunk, "dictionary", None) is not None and chunk.dictionary.to_pylist() == [marker]
        for chunk in chunks
    )


def _pandas_marker(pandas: Any, n: int, marker: str) -> Any:
    numpy = sys.modules["numpy"]  # pandas imports it
    return pandas.Categorical.from_codes(numpy.zeros(n, dtype=numpy.int8), categories=[marker])


def _pandas_frame(frame: Any, pandas: Any, is_secret: Callable[[object], bool], marker: str) -> Any:
    columns = frame.columns
    if len(columns) > MAX_COLUMNS:
        return frame
    secret = [
        i
        for i, name in enumerate(columns)
        if _secret_name(name, is_secret) and not _pandas_redacted(frame.iloc[:, i], marker)
    ]
    if not secret:
        return frame
    copy = frame.copy(deep=False)
    column = _pandas_marker(pandas, len(frame), marker)
    for i in secret:
        copy.isetitem(i, column)
    return copy


def _arrow_table(table: Any, pyarrow: Any, is_secret: Callable[[object], bool], marker: str) -> Any:
    names = table.column_names
    if len(names) > MAX_COLUMNS:
        return table
    secret = [
        i
        for i, name in enumerate(names)
        if _secret_name(name, is_secret) and not _arrow_redacted(table.column(i), marker)
    ]
    if not secret:
        return table
    numpy = sys.modules.get("numpy")
    codes = (
        pyarrow.array(numpy.zeros(table.num_rows, dtype=numpy.int8))
        if numpy is not None
        else pyarrow.array([0] * table.num_rows, type=pyarrow.int8())
    )
    column = pyarrow.DictionaryArray.from_arrays(codes, pyarrow.array([marker]))
    for i in secret:
        table = table.set_column(i, names[i], column)
    return table
