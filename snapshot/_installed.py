"""What is installed here: versions of packages and top-level modules, found without importing them.

Both sides ask: the writer records the version of each module a piece needs,
the reader names the versions that differ when a piece fails to load.
``importlib.metadata`` (about 13 ms) is imported when a version is first asked for.
"""

from __future__ import annotations

import functools
import sys
import threading


@functools.lru_cache(maxsize=256)
def package_version(distribution: str) -> str | None:
    """The installed version of a distribution (``"dask-replay"``), or None."""
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


_lock = threading.Lock()
_found: dict[str, list[str]] | None = None


def _distributions() -> dict[str, list[str]]:
    """Top-level module -> distributions, read once per process.  A capture that asks
    while :func:`warm_up` reads waits for that reading rather than making a second."""
    global _found
    if _found is None:
        with _lock:
            if _found is None:
                _found = _read_distributions()
    return _found


def _read_distributions() -> dict[str, list[str]]:
    import importlib.metadata

    try:
        return dict(importlib.metadata.packages_distributions())
    except Exception:
        return {}


def module_version(top_level: str) -> str | None:
    """Best-effort version of an importable top-level module, without importing it."""
    module = sys.modules.get(top_level)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    for dist in _distributions().get(top_level, []):
        found = package_version(dist)
        if found:
            return found
    return None


def is_stdlib(top_level: str) -> bool:
    """Whether a top-level module comes with Python (its version is Python's)."""
    return top_level in sys.stdlib_module_names or top_level == "builtins"


def warm_up() -> None:
    """Read the installed packages' metadata now, ahead of a first failure.

    The first capture in a process otherwise pays for it (``importlib.metadata``
    and ``packages_distributions()``: about 150 ms in a Dask worker), when it
    records the versions of the modules a piece needs.  The worker plugin runs
    this in a thread of its own when it starts.  Never raises.
    """
    try:
        _distributions()
    except Exception:  # pragma: no cover - _distributions already swallows errors
        pass
