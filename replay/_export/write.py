"""Writing an exported test: checks first (names, the exception, the inputs' size), then
the pickle of the inputs and the test beside it."""

from __future__ import annotations

import ast
import os
import pickle
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import snapshot

from .render import ExportPlan, test_text

__all__ = ["MAX_INPUT_BYTES", "ExportRefused", "Exported", "export_test"]

#: Inputs larger than this are no test fixture: ``shrink`` them first, or ``--force``.
MAX_INPUT_BYTES = 1024 * 1024


class ExportRefused(Exception):
    """The snapshot cannot be exported as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Exported:
    test: str
    data: str
    data_bytes: int


def export_test(
    call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]],
    model: snapshot.Manifest,
    snapshot_path: str,
    output: str,
    *,
    sources: Sequence[str] = (),
    force: bool = False,
    max_bytes: int = MAX_INPUT_BYTES,
) -> Exported:
    """Write ``output`` (a pytest file) and its inputs beside it; raises :class:`ExportRefused`."""
    func, args, kwargs = call
    target = getattr(func, "__func__", func)
    if not output.endswith(".py") or not os.path.basename(output).startswith("test_"):
        raise ExportRefused(f"-o {output}: name it test_NAME.py, so that pytest collects it")
    error = model.error
    if model.death is not None or error is None or not error.type or not error.module:
        raise ExportRefused(
            f"{snapshot_path}: no exception was captured (a worker's death?): export-test "
            "writes a test of a raised exception; `python -m replay check` judges a death"
        )
    module = str(getattr(target, "__module__", "") or "")
    qualname = str(getattr(target, "__qualname__", "") or "")
    _require_names(snapshot_path, qualname, error.type, error.module)
    directory = os.path.dirname(os.path.abspath(output))
    script = None
    if isinstance(target, types.FunctionType) and snapshot.by_value_functions([target]):
        script = _script(snapshot_path, qualname, sources, directory)
    else:
        _require_names(snapshot_path, module)
    data = _pickled(args, kwargs)
    if len(data) > max_bytes and not force:
        raise ExportRefused(
            f"{snapshot_path}: the inputs take {len(data):,} bytes pickled, over the "
            f"{max_bytes:,} a test fixture should hold; `python -m replay shrink` keeps only "
            "the part that fails (then export the small snapshot), or --force writes them all"
        )
    stem = os.path.splitext(os.path.basename(output))[0]
    data_path = os.path.join(directory, f"{stem}_inputs.pickle")
    for path in (output, data_path):
        if os.path.exists(path) and not force:
            raise ExportRefused(f"{path} exists; remove it, or --force overwrites it")
    plan = ExportPlan(
        module=None if script is not None else module,
        qualname=qualname,
        script=script,
        exception_module=error.module,
        exception_qualname=error.type,
        task=_task(model),
        snapshot=os.path.basename(snapshot_path),
        data_name=os.path.basename(data_path),
    )
    os.makedirs(directory, exist_ok=True)
    with open(data_path, "wb") as fh:
        fh.write(data)
    with open(output, "w", encoding="utf-8") as fh:
        fh.write(test_text(plan))
    return Exported(output, data_path, len(data))


def _require_names(path: str, *names: str) -> None:
    for name in names:
        parts = name.split(".")
        if not name or not all(p.isidentifier() and not _keyword(p) for p in parts):
            raise ExportRefused(
                f"{path}: {name!r} is not a name a test can import (a lambda or a nested "
                "function?); write the test by hand from `python -m replay info`"
            )


def _keyword(name: str) -> bool:
    import keyword

    return keyword.iskeyword(name)


def _script(path: str, qualname: str, sources: Sequence[str], directory: str) -> str:
    """The ``--source`` script defining ``qualname`` at its top level, relative to ``directory``."""
    top = qualname.partition(".")[0]
    for source in reversed(list(sources)):
        if not source.endswith(".py"):
            continue
        try:
            with open(source, encoding="utf-8") as fh:
                tree = ast.parse(fh.read(), source)
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
            continue
        if any(getattr(node, "name", None) == top for node in tree.body):
            return os.path.relpath(os.path.abspath(source), directory)
    raise ExportRefused(
        f"{path}: {qualname} was pickled by value (defined in __main__ or a notebook), so "
        "there is no module to import it from; give --source SCRIPT.py, a script that "
        "defines it (export a notebook with `jupyter nbconvert --to script` first)"
    )


def _pickled(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    value = (tuple(args), dict(kwargs))
    try:
        return pickle.dumps(value, protocol=5)
    except Exception:  # a by-value class or function among the inputs
        import cloudpickle

        data: bytes = cloudpickle.dumps(value, protocol=5)
        return data


def _task(model: snapshot.Manifest) -> str:
    key = model.task.key if model.task is not None else None
    return str(key) if key is not None else "?"
