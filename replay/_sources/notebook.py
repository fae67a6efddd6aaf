"""Candidate sources read from files: scripts, notebooks and nbconvert exports.

A script is one unit.  A notebook (``.ipynb``, read with nbformat) gives one
unit per code cell, its text as IPython compiles it: magics and shell escapes
become ``get_ipython()`` calls through
``IPython.core.inputtransformer2.TransformerManager().transform_cell``, the
transformation a kernel applies before compiling a cell (and nbconvert before
exporting one).  An nbconvert export (``jupyter nbconvert --to script``) gives
one unit per ``# In[N]:`` section as well as the whole file: a function's
first line is relative to its cell, so the cell is matched on its own and its
lines are shown at their place in the export.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

from .codematch import Unit

__all__ = ["MAX_FILE_BYTES", "directory_candidates", "file_units"]

#: Files larger than this are not read as candidate sources.
MAX_FILE_BYTES = 4 * 1024 * 1024
_MAX_DIRECTORY_FILES = 200

_EXPORT_HEADER = re.compile(r"^# In\[[ \d]*\]:[ \t]*$")


def directory_candidates(directory: str) -> list[str]:
    """The notebooks, then the ``*.py`` files, directly in ``directory``, sorted."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    paths = [n for n in names if n.endswith(".ipynb")] + [n for n in names if n.endswith(".py")]
    return [os.path.join(directory, n) for n in paths[:_MAX_DIRECTORY_FILES]]


def file_units(path: str) -> tuple[list[Unit], str | None]:
    """The units of the file at ``path``, and why there are none (unreadable, too big)."""
    shown = os.path.abspath(path)
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return [], f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
        if path.endswith(".ipynb"):
            return _notebook_units(path, shown)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        return [], f"{path} cannot be read ({type(exc).__name__}: {exc})"
    return [Unit(text, shown, origin=path), *_export_units(text, path, shown)], None


def _export_units(text: str, path: str, shown: str) -> list[Unit]:
    lines = text.splitlines(keepends=True)
    headers = [n for n, line in enumerate(lines) if _EXPORT_HEADER.match(line)]
    units: list[Unit] = []
    for start, end in zip(headers, [*headers[1:], len(lines)], strict=False):
        body = lines[start + 1 : end]
        blank = 0
        while blank < len(body) and not body[blank].strip():
            blank += 1
        label = lines[start].strip()[2:-1]  # "In[3]"
        # Line j of the section is line start + 1 + j of the file (start counts from 0).
        units.append(
            Unit("".join(body), shown, origin=f"{path}, {label}", offset=start + 1, slack=blank)
        )
    return units


def _notebook_units(path: str, shown: str) -> tuple[list[Unit], str | None]:
    try:
        import nbformat

        notebook: Any = nbformat.read(path, as_version=4)
        cells = list(notebook.cells)
    except Exception as exc:  # nbformat raises its own and json's errors for a bad file
        return [], f"{path} is not a readable notebook ({type(exc).__name__}: {exc})"
    units = []
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        raw = cell["source"]
        name = f"{shown} [cell {number}]"
        transformed = _transform(raw)
        texts = [transformed] if transformed is not None else []
        if raw not in texts:
            texts.append(raw)
        units += [Unit(t, name, origin=f"{path}, cell {number}", register=True) for t in texts]
    return units, None


def _transform(source: str) -> str | None:
    """The cell as IPython would compile it; None without IPython or when it cannot say."""
    manager = _transformer()
    if manager is None:
        return None
    try:
        text: str = manager.transform_cell(source)
    except Exception:  # IPython's transformers raise various errors on malformed cells
        return None
    return text


@functools.cache
def _transformer() -> Any:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return None
    return TransformerManager()
