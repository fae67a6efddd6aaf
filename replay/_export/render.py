"""The text of an exported test: imports, the known failure as ``xfail(strict=True)``,
and a comment saying what to write once it is fixed.

The generated file is plain, lint-clean Python, formatted as ``ruff format``
leaves it, every line under 88 characters: the function is imported from its
module, or loaded from the ``--source`` script that defines a function pickled
by value; the inputs are read from the pickle beside it.  Every text taken
from the snapshot (a task key, a name) is cut and made printable ASCII first.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from dataclasses import dataclass

__all__ = ["ExportPlan", "identifier", "test_text"]

_TRIPLE = '"' * 3


@dataclass(frozen=True)
class ExportPlan:
    """What the test needs to say: where the function comes from, what it raises."""

    module: str | None  # the module to import the function from (None: from ``script``)
    qualname: str
    script: str | None  # a script defining it, relative to the test file
    exception_module: str
    exception_qualname: str
    task: str
    snapshot: str  # the file's name, for the docstring
    data_name: str  # the inputs file, beside the test


def identifier(text: str, limit: int = 60) -> str:
    """A Python identifier made from ``text`` (a task key, a file name)."""
    name = re.sub(r"\W+", "_", text.encode("ascii", "replace").decode()).strip("_").lower()
    name = name[:limit].rstrip("_") or "call"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"t_{name}"
    return name


def test_text(plan: ExportPlan) -> str:
    """The whole test module."""
    top = plan.qualname.partition(".")[0]
    raises, raises_import = _exception(plan)
    name = plan.qualname.rpartition(".")[2]
    test_name = f"test_{identifier(name, 30)}_{identifier(plan.task, 30)}"
    task = _safe(plan.task, 40)
    lines = [
        f"{_TRIPLE}The failure of task {task} as a regression test.",
        "",
        "Exported by `python -m replay export-test` from the snapshot",
        f"{_safe(plan.snapshot, 80)}",
        f"with the inputs the worker passed to {_safe(plan.qualname, 40)}, kept in",
        f"{_safe(plan.data_name, 80)}.",
        _TRIPLE,
        "",
    ]
    wanted: dict[str, set[str]] = {"pathlib": {"Path"}}
    if raises_import is not None:
        wanted.setdefault(raises_import[0], set()).add(raises_import[1])
    if plan.module is not None:
        wanted.setdefault(plan.module, set()).add(top)
    plain = ["pickle", *(["importlib.util"] if plan.module is None else [])]
    stdlib = {m: n for m, n in wanted.items() if _stdlib(m)}
    others = {m: n for m, n in wanted.items() if not _stdlib(m)}
    lines += _import_block(plain, stdlib)
    # Modules ruff cannot place (the user's) count as third-party, beside pytest.
    lines += ["", *_import_block(["pytest"], others)]
    lines += ["", f"INPUTS = Path(__file__).with_name({_literal(plan.data_name)})"]
    call = plan.qualname
    if plan.module is None:
        assert plan.script is not None
        lines += [
            f"SCRIPT = Path(__file__).parent / {_literal(plan.script)}",
            "",
            "",
            "def _script():",
            f"    {_TRIPLE}The script defining the function (pickled by value).{_TRIPLE}",
            '    spec = importlib.util.spec_from_file_location("exported_script", SCRIPT)',
            "    module = importlib.util.module_from_spec(spec)",
            "    spec.loader.exec_module(module)",
            "    return module",
        ]
        call = f"_script().{plan.qualname}"
    lines += [
        "",
        "",
        "# The known failure: this test passes while the call still raises",
        f"# {_safe(plan.exception_qualname, 60)}. Once it is fixed, pytest reports",
        "# XPASS(strict) as a failure: then remove the mark and assert what the call",
        "# should return instead, e.g.",
        f"#     assert {_safe(call, 40)}(*args, **kwargs) == expected",
        "@pytest.mark.xfail(",
        "    strict=True,",
        f"    raises={raises},",
        f'    reason="the failure of task {_safe(plan.task, 40, quote=True)}",',
        ")",
        f"def {test_name}() -> None:",
        "    args, kwargs = pickle.loads(INPUTS.read_bytes())",
        f"    {call}(*args, **kwargs)",
        "",
    ]
    return "\n".join(lines)


def _exception(plan: ExportPlan) -> tuple[str, tuple[str, str] | None]:
    top = plan.exception_qualname.partition(".")[0]
    if plan.exception_module == "builtins":
        return plan.exception_qualname, None
    return plan.exception_qualname, (plan.exception_module, top)


def _stdlib(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


def _import_block(plain: list[str], froms: dict[str, set[str]]) -> list[str]:
    """Imports as ruff's isort orders them: ``import x`` lines, then ``from x import ...``,
    each by module; names by type (CONSTANTS, Classes, functions)."""

    def by_type(name: str) -> tuple[int, str]:
        kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
        return kind, name.lower()

    rows = [(0, m.lower(), f"import {m}") for m in plain]
    rows += [
        (1, m.lower(), f"from {m} import {', '.join(sorted(names, key=by_type))}")
        for m, names in froms.items()
    ]
    return [text for _, _, text in sorted(rows)]


def _literal(text: str) -> str:
    """A double-quoted Python string literal of ``text`` (a file name: any character)."""
    return json.dumps(text)


def _safe(text: str, limit: int, *, quote: bool = False) -> str:
    """Text for a comment, a docstring or a string literal: printable ASCII without
    backslashes (no escape sequence), short, nothing that ends it."""
    cleaned = "".join(c if c.isascii() and c.isprintable() else "?" for c in text)
    cleaned = cleaned.replace("\\", "/").replace(_TRIPLE, "'''")
    if quote:
        cleaned = cleaned.replace('"', "'")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."
