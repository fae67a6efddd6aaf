"""What shrink can take apart, and how a value is rebuilt from the units kept (pure functions
of ``replay._shrink``: no call is run here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay._shrink.ddmin import ddmin, positions
from replay._shrink.parts import children, get, kinds, replace, size, take


def test_each_kind_of_value_is_rebuilt_from_the_units_kept() -> None:
    assert take(np.arange(10).reshape(5, 2), "rows", np.array([1, 3])).tolist() == [[2, 3], [6, 7]]
    series = pd.Series([1, 2, 3], index=["a", "b", "c"])
    assert take(series, "rows", np.array([2])).to_dict() == {"c": 3}
    assert take((1, 2, 3), "items", [0, 2]) == (1, 3)
    assert take({"a": 1, "b": 2}, "items", [1]) == {"b": 2}
    assert take({3, 1, 2}, "items", [0]) == {1}
    assert take(frozenset("ab"), "items", [1]) == frozenset("b")
    assert take(b"one\ntwo\nthree", "lines", [1]) == b"two\n"
    assert take(b"abc", "chars", [0, 2]) == b"ac"
    assert take("abc", "chars", [1]) == "b"
    assert size("a\nb\n", "lines") == 2
    assert kinds("x") == ["lines", "chars"] and kinds(3) == [] and kinds(np.float64(1)) == []


def test_a_value_is_replaced_at_its_path_without_changing_the_original() -> None:
    args = ([1, {"k": [5, 6]}],)
    kwargs = {"n": "text"}
    root = (args, kwargs)
    path = (("arg", 0), ("item", 1), ("value", "k"))
    assert get(root, path) == [5, 6]
    new_args, new_kwargs = replace(root, path, [6])
    assert new_args == ([1, {"k": [6]}],) and new_kwargs is not None
    assert args == ([1, {"k": [5, 6]}],)  # untouched
    assert [step for step, _ in children([1, "a", [2]])] == [("item", 1), ("item", 2)]


def test_ddmin_finds_the_one_unit_and_stops_when_told() -> None:
    tried: list[int] = []

    def fails(keep: object) -> bool:
        tried.append(len(keep))  # type: ignore[arg-type]
        return 777 in list(keep)  # type: ignore[call-overload]

    assert list(ddmin(positions(1000), fails)) == [777]
    assert len(tried) < 40
    assert len(ddmin(positions(1000), lambda keep: None)) == 1000  # the budget ran out at once
    assert list(ddmin(positions(5), lambda keep: True)) == []  # fails with nothing at all


def test_an_exported_test_quotes_any_file_name_and_escapes_the_snapshot_s_text() -> None:
    import ast

    from replay._export.render import ExportPlan, test_text

    plan = ExportPlan(
        module=None,
        qualname="recip",
        script='../we"ird\\\n name.py',
        exception_module="builtins",
        exception_qualname="ZeroDivisionError",
        task='recip-1"""\n\x1b[31m',
        snapshot="a\u202eb\\N.tar.zst",  # a backslash: no escape sequence in the docstring
        data_name="test_x_inputs.pickle",
    )
    tree = ast.parse(test_text(plan))  # valid Python, whatever the names hold
    script = next(
        node.value.right.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "SCRIPT"  # type: ignore[attr-defined]
    )
    assert script == '../we"ird\\\n name.py'
    assert "\x1b" not in test_text(plan) and "\u202e" not in test_text(plan)
