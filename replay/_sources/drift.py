"""Modules that differ here from the source captured on the worker, said in one line each.

A re-run executes this machine's code: when the module that raised is another
version here (lines shifted, body changed), the re-run may not fail the same
way, and the user is told which module, which files and the first line that
differs.  ``--frames`` shows the captured source for those frames instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .candidates import read_text

__all__ = ["module_drift"]

_SHOWN = 80


def module_drift(
    frames: Sequence[Mapping[str, Any]], sources: Mapping[str, str], *, rerun: bool
) -> list[str]:
    """One warning per module (or file) whose local text differs from the captured one."""
    warnings: list[str] = []
    seen: set[str] = set()
    for record in frames:
        filename = record.get("filename")
        if not isinstance(filename, str) or filename not in sources:
            continue
        module_name = record.get("module")
        module = sys.modules.get(module_name) if isinstance(module_name, str) else None
        local = getattr(module, "__file__", None)
        if not isinstance(local, str) or not os.path.isfile(local):
            local = filename if os.path.isfile(filename) else None
        if local is None or local in seen:
            continue
        seen.add(local)
        here = read_text(local)
        if here is None:
            continue
        captured = sources[filename].splitlines()
        lines = here.splitlines()
        if lines == captured:
            continue
        line = _first_difference(lines, captured)
        where = "" if local == filename else f" (the worker's {filename})"
        what = f"module {module_name}: " if isinstance(module_name, str) else ""
        consequence = (
            "the re-run runs this machine's code, which may not fail the same way"
            if rerun
            else "the frames show the captured source"
        )
        warnings.append(
            f"{local} differs from the source captured on the worker{where}: {what}"
            f"first difference at line {line}: here {_at(lines, line)}, on the worker "
            f"{_at(captured, line)}; {consequence}."
        )
    return warnings


def _first_difference(a: list[str], b: list[str]) -> int:
    for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return number
    return min(len(a), len(b)) + 1


def _at(lines: list[str], number: int) -> str:
    if number > len(lines):
        return "(end of file)"
    text = lines[number - 1].strip()
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...")
