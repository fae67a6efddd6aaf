"""Where replay looks for source, in order: the snapshot, this process, files.

Each group is a list of :class:`~replay._sources.codematch.Unit` made lazily, so
that files are read only while some code is still unmatched:

1. the source texts captured in the snapshot;
2. the frames' own files and modules as they are on this machine;
3. in a live session, what this process compiled itself: the functions of
   ``__main__`` and the cells IPython and ipykernel put in ``linecache``
   (``<ipython-input-N-hash>``, ``/tmp/ipykernel_<pid>/<hash>.py``);
4. the files given with ``--source`` (scripts, notebooks, nbconvert exports);
5. the notebooks and ``*.py`` files of the current directory.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from snapshot import DYNAMIC_CODE

from .codematch import Unit
from .notebook import directory_candidates, file_units

__all__ = ["CandidateGroup", "candidate_groups", "captured_name", "read_text"]

# The cells an IPython shell or kernel compiled, as it names them in linecache.
_CELL_NAME = re.compile(r"^<ipython-input-\d+-[0-9a-f]+>$|[/\\]ipykernel_\d+[/\\][^/\\]+\.py$")
_MAX_LIVE_UNITS = 2000


@dataclass
class CandidateGroup:
    """Units from one place; ``path`` is set for a file given with ``--source``."""

    label: str
    load: Callable[[], list[Unit]]
    path: str | None = None
    problem: str | None = None


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def captured_name(filename: str, text: str) -> tuple[str, bool]:
    """The name to show captured ``text`` of ``filename`` under, and whether to register it.

    A file that exists here with the same text is shown from disk; one that is
    missing gets the captured text under its own name; one that differs here
    gets the captured text under a name of its own, so this machine's file is
    never shown for lines that ran elsewhere.
    """
    if filename == DYNAMIC_CODE:
        return f"{DYNAMIC_CODE} (as captured)", True
    if not _is_file(filename):
        return filename, True
    local = read_text(filename)
    if local is not None and _lines(local) == _lines(text):
        return filename, False
    return f"{filename} (as captured)", True


def candidate_groups(
    frames: Sequence[Mapping[str, Any]],
    sources: Mapping[str, str],
    *,
    paths: Sequence[str],
    directory: str | None,
    live: bool,
) -> Iterator[CandidateGroup]:
    yield CandidateGroup("the snapshot", lambda: _captured_units(sources))
    yield CandidateGroup("this machine's copies of the frames' files", lambda: _local_units(frames))
    if live:
        yield CandidateGroup("this session", _live_units)
    given = [os.path.abspath(p) for p in paths]
    for path in paths:
        yield _file_group(path, given=True)
    if directory is not None:
        for path in directory_candidates(directory):
            if os.path.abspath(path) not in given:
                yield _file_group(path, given=False)


def _file_group(path: str, *, given: bool) -> CandidateGroup:
    group = CandidateGroup(path, lambda: [], path=path if given else None)

    def load() -> list[Unit]:
        units, group.problem = file_units(path)
        return units

    group.load = load
    return group


def _captured_units(sources: Mapping[str, str]) -> list[Unit]:
    units = []
    for filename, text in sources.items():
        shown, register = captured_name(filename, text)
        units.append(
            Unit(
                text,
                shown,
                origin=f"the snapshot's copy of {filename}",
                register=register,
                announce=False,
            )
        )
    return units


def _local_units(frames: Sequence[Mapping[str, Any]]) -> list[Unit]:
    paths: list[str] = []
    for record in frames:
        filename = record.get("filename")
        if isinstance(filename, str) and _is_file(filename):
            paths.append(filename)
        module = sys.modules.get(str(record.get("module")))
        where = getattr(module, "__file__", None)
        if isinstance(where, str) and _is_file(where):
            paths.append(where)
    units = []
    for path in dict.fromkeys(paths):
        text = read_text(path)
        if text is not None:
            units.append(Unit(text, path, origin=path))
    return units


def _live_units() -> list[Unit]:
    """What this process compiled: ``__main__``'s script and functions, IPython's cells."""
    names: list[str] = []
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if isinstance(script, str) and _is_file(script):
        names.append(script)
    for value in list(vars(main).values()) if main is not None else []:
        if isinstance(value, types.FunctionType):
            names.append(value.__code__.co_filename)
    names += [n for n in list(linecache.cache) if _CELL_NAME.search(n)]
    units = []
    for name in list(dict.fromkeys(names))[:_MAX_LIVE_UNITS]:
        lines = linecache.getlines(name)
        if lines:
            units.append(Unit("".join(lines), name, origin=f"this session's {name}"))
    return units


def _is_file(filename: str) -> bool:
    if filename.startswith("<") and filename.endswith(">"):
        return False
    return os.path.isfile(filename)


def _lines(text: str) -> list[str]:
    return text.splitlines()
