"""``replay._run.compare``: same or different, and a one-line difference for common types."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd

from replay._run.compare import compare_results


def test_equal_values_are_the_same() -> None:
    for value in (2, 2.5, "text", b"x", [1, [2]], {"a": (1, 2)}, None, math.nan, [math.nan]):
        assert compare_results(value, value if value is not None else None) is None
    assert compare_results(2, 2.0) is None  # a number is a number
    assert compare_results(float("nan"), float("nan")) is None


def test_numbers_text_and_containers_say_where_they_differ() -> None:
    assert compare_results(2, 3) == "3, where the cluster returned 2"
    assert compare_results("abcdef", "abcXef").startswith("differs from character 3 on")
    assert compare_results([1, 2, 3], [1, 5, 3]) == "item [1]: 5, where the cluster returned 2"
    assert compare_results([1, 2], [1, 2, 3]) == "3 items, where the cluster returned 2"
    assert compare_results({"a": 1}, {"a": 2}) == "key 'a': 2, where the cluster returned 1"
    assert "no key 'b'" in str(compare_results({"a": 1, "b": 2}, {"a": 1}))
    assert compare_results(1, "1") == "a str ('1'), where the cluster returned a int"


def test_numpy_arrays_are_compared_by_shape_dtype_and_elements() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert compare_results(a, a.copy()) is None
    b = a.copy()
    b[1, 2] = 9
    assert (
        compare_results(a, b)
        == "1 of 6 elements differ (first at [1, 2]: np.float64(9.0), was np.float64(5.0))"
    )
    assert compare_results(a, a.T) == "shape (3, 2), where the cluster returned shape (2, 3)"
    assert compare_results(np.float64(100.0), np.float64(100.0)) is None
    assert compare_results(np.array([np.nan]), np.array([np.nan])) is None


def test_pandas_objects_get_pandas_own_short_message() -> None:
    s = pd.Series([1, 2, 3], name="x")
    assert compare_results(s, s.copy()) is None
    different = compare_results(s, pd.Series([1, 2, 4], name="x"))
    assert different is not None and "Series" in different and "\n" not in different
    frame = pd.DataFrame({"a": [1, 2]})
    assert compare_results(frame, frame.rename(columns={"a": "b"})) is not None
    assert compare_results(frame, frame.iloc[:1]).startswith("shape (1, 1)")


def test_a_value_whose_eq_raises_is_reported_not_raised() -> None:
    class Odd:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

    assert compare_results(Odd(), Odd()) == "cannot be compared (RuntimeError: RuntimeError('no'))"


def test_comparing_plain_values_imports_neither_numpy_nor_pandas() -> None:
    code = (
        "import sys\nfrom replay._run.compare import compare_results\n"
        "compare_results([1, {'a': 2.0}], [1, {'a': 3.0}])\n"
        "print('numpy' in sys.modules, 'pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"
