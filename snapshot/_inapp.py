"""Which captured frames are the user's own code, and which belong to installed libraries.

The rule of Sentry's "in app" and debugpy's ``justMyCode``, applied to what
the manifest records of each frame (its file name and module, both from the
worker): a frame is a library's when its file lies under a Python
installation (``.../lib/pythonX.Y/``, ``site-packages``, ``dist-packages``,
``<frozen ...>``), or its module belongs to a library Dask runs the user's
code through (dask, distributed, pandas, numpy, scipy, ...), or, for a frame
without a real file, its module is in the standard library.  Everything else
(``<dynamic-code>`` of a notebook cell, a file of the user's project) is the
user's.  ``info`` and the HTML page show the user's frames in full, the others
folded.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["LIBRARIES", "failing_frame_index", "is_library_frame", "is_stdlib"]

#: Top-level modules run between Dask and the user's code (installed editable,
#: outside site-packages, they are still libraries), and the replay's own.
LIBRARIES = frozenset(
    {
        "dask",
        "distributed",
        "pandas",
        "numpy",
        "scipy",
        "pyarrow",
        "toolz",
        "tlz",
        "cytoolz",
        "cloudpickle",
        "tornado",
        "fsspec",
        "xarray",
        "sklearn",
        "zict",
        "tblib",
        "IPython",
        "ipdb",
        "cluster_hook",
        "snapshot",
        "replay",
    }
)

#: Where installed code lives.  Compiling it is about 1 M instructions, a hundredth of
#: ``info``: :func:`installed_path` matches an ASCII name (all names, in practice)
#: with string methods and compiles it only for any other.
INSTALLED_PATTERN = (
    r"([/\\](site|dist)-packages[/\\])|([/\\]lib[/\\]python3?\.?[0-9]*[/\\])|(^<frozen )"
)


def is_stdlib(top_level: str) -> bool:
    """Whether a top-level module comes with Python (its version is Python's)."""
    return top_level in sys.stdlib_module_names or top_level == "builtins"


def installed_path(filename: str) -> bool:
    """``re.search(INSTALLED_PATTERN, filename, re.IGNORECASE)``."""
    if not filename.isascii():  # IGNORECASE folds some non-ASCII letters onto ASCII ones
        return re.search(INSTALLED_PATTERN, filename, re.IGNORECASE) is not None
    name = filename.lower().replace("\\", "/")
    if name.startswith("<frozen ") or "/site-packages/" in name or "/dist-packages/" in name:
        return True
    at = name.find("/lib/python")
    while at >= 0:
        version, slash, _ = name[at + len("/lib/python") :].partition("/")
        if slash and _python_version(version):
            return True
        at = name.find("/lib/python", at + 1)
    return False


def _python_version(text: str) -> bool:
    """Whether ``text`` (ASCII) is all of ``3?\\.?[0-9]*``."""
    text = text.removeprefix("3").removeprefix(".")
    return not text or text.isdigit()


def is_library_frame(frame: Any) -> bool:
    """Whether a captured frame (``snapshot.Frame``) is an installed library's code."""
    filename = frame.filename if isinstance(frame.filename, str) else ""
    if installed_path(filename):
        return True
    module = frame.module if isinstance(frame.module, str) else ""
    top = module.partition(".")[0]
    if top in LIBRARIES:
        return True
    real_file = filename.startswith(("/", "\\")) or filename[1:3] in (":\\", ":/")
    # A user's own ``code.py`` is not the standard library's ``code``: the module
    # name decides only for a frame whose file says nothing.
    return not real_file and is_stdlib(top)


#: Frames Python makes for a comprehension or a generator expression: the user's
#: function is the one around them.
_INNER_SCOPES = ("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>")


def failing_frame_index(frames: Sequence[Any]) -> int | None:
    """The index of the user's function where the exception was raised (frames are
    outermost first, as the manifest records them): the innermost frame that is not a
    library's, or the function around it when that frame is a comprehension's; None
    when every frame is a library's."""
    index = len(frames) - 1
    while index >= 0 and is_library_frame(frames[index]):
        index -= 1
    if index < 0:
        return None
    while (
        index > 0
        and frames[index].function in _INNER_SCOPES
        and not is_library_frame(frames[index - 1])
    ):
        index -= 1
    return index
