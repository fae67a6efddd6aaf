"""Which versions differ between the machine that captured and this one.

Versions here are read from installed package metadata, never by importing a
module: comparing must not run any of the code it is about to warn about.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import re
import sys
from collections.abc import Mapping
from typing import NamedTuple

import snapshot

__all__ = [
    "MAX_CHECKED_MODULES",
    "VersionDifference",
    "compare_versions",
    "local_module_version",
    "same_bytecode",
    "unchecked_modules",
]

# Packages whose versions matter to a replay whether or not the pickles name them.
KEY_PACKAGES = ("dask", "distributed", "cloudpickle", "numpy", "pandas")
#: Recorded modules looked up here, at most (besides the key packages and the
#: standard library): each lookup searches sys.path, and a crafted manifest may
#: name a million.  A genuine snapshot names a few dozen.
MAX_CHECKED_MODULES = 500


class VersionDifference(
    NamedTuple(
        "VersionDifference", [("name", str), ("recorded", str | None), ("local", str | None)]
    )
):
    """One component whose version on the worker is not the one here.

    (A named tuple, not a dataclass: ``info`` must not import ``dataclasses``
    and the ``inspect`` it pulls in; made by the call form of NamedTuple, as the class
    form compiles each field's annotation string, about 1 ms per field.)
    """

    __slots__ = ()

    def __str__(self) -> str:
        if self.local is None:
            where = f"{self.name} {self.recorded}" if self.recorded else self.name
            return f"{where} was on the worker but is not installed here"
        return (
            f"{self.name} {self.recorded or '(version unknown)'} on the worker, {self.local} here"
        )


def same_bytecode(python: str | None) -> bool:
    """Whether code hashes made under Python ``python`` compare here
    (``snapshot.same_bytecode``, the page's answer too: unknown is not verified)."""
    return snapshot.same_bytecode(python)


@functools.lru_cache(maxsize=1)
def _installed_versions() -> Mapping[str, str]:
    """``{normalized distribution name: version}`` from ``*.dist-info`` directory
    names on ``sys.path``: a directory listing, where ``importlib.metadata``
    costs some 15 ms to import and parses every METADATA file it reads.  The
    first entry on the path wins, as for imports."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                distribution, sep, version = name[: -len(".dist-info")].partition("-")
                if sep and version:
                    found.setdefault(_normalize(distribution), version)
    return found


def _normalize(name: str) -> str:
    # re.sub(r"[-_.]+", "-", name): runs of separators become one "-" (a regular
    # expression only for the rare run: this is called for every installed package).
    dashed = name.replace("_", "-").replace(".", "-")
    if "--" in dashed:
        dashed = re.sub("-+", "-", dashed)
    return dashed.lower()


def _package_version(distribution: str) -> str | None:
    version = _installed_versions().get(_normalize(distribution))
    if version is not None:
        return version
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def _location(module: str) -> str | None:
    """Where a top-level module would be imported from, without importing it."""
    if not module.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    return spec.origin or next(iter(spec.submodule_search_locations or []), "")


def _installed(module: str) -> bool:
    # find_spec("a.b") imports "a": only plain top-level names are looked up, so
    # that a crafted manifest cannot make `info` import anything.
    if not module.isidentifier():
        return False
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def local_module_version(module: str) -> tuple[bool, str | None]:
    """``(installed, version)`` of a top-level module here, without importing it."""
    direct = _installed_versions().get(_normalize(module))
    if direct is not None:  # numpy, dask, cloudpickle: the module names its package
        return True, direct
    location = _location(module)
    if location is None:
        return False, None
    if "-packages" not in location:
        # The user's own code (the working directory, PYTHONPATH): no package
        # owns it, and reading every distribution's metadata to ask costs ~10 ms.
        return True, None
    # A module named unlike its distribution (yaml: PyYAML): the one reading of
    # which installed distribution provides it, shared with the writer.
    version = snapshot.provided_version(module)
    if version is not None:
        return True, version
    return _installed(module), None


def compare_versions(model: snapshot.Manifest) -> list[VersionDifference]:
    """Every difference a replay should warn about: Python, key packages, pickled modules."""
    environment = model.environment
    differences: list[VersionDifference] = []
    python = environment.python if environment is not None else None
    recorded_python = python.version if python is not None else None
    if recorded_python and recorded_python != platform.python_version():
        differences.append(VersionDifference("Python", recorded_python, platform.python_version()))
    packages = (environment.packages if environment is not None else None) or {}
    modules = model.modules or {}
    seen: set[str] = set()
    for name in KEY_PACKAGES:
        recorded = packages.get(name)
        if not recorded:
            continue
        seen.add(name)
        local = _package_version(name)
        # A key package the pickles do not need may be absent here without harm.
        if local is None and name not in modules:
            continue
        if local != recorded:
            differences.append(VersionDifference(name, recorded, local))
    for module, recorded_version in _checked(modules, seen):
        installed, local = local_module_version(module)
        if not installed:
            differences.append(VersionDifference(module, recorded_version, None))
        elif recorded_version and local and recorded_version != local:
            differences.append(VersionDifference(module, recorded_version, local))
    return differences


def _candidates(modules: Mapping[str, str | None], seen: set[str]) -> list[tuple[str, str | None]]:
    return [
        (module, version)
        for module, version in sorted(modules.items())
        if module not in seen and module not in sys.stdlib_module_names
    ]


def _checked(modules: Mapping[str, str | None], seen: set[str]) -> list[tuple[str, str | None]]:
    return _candidates(modules, seen)[:MAX_CHECKED_MODULES]


def unchecked_modules(model: snapshot.Manifest) -> int:
    """How many recorded modules :func:`compare_versions` left unchecked (over its limit)."""
    packages = (model.environment.packages if model.environment is not None else None) or {}
    seen = {name for name in KEY_PACKAGES if packages.get(name)}
    return max(0, len(_candidates(model.modules or {}, seen)) - MAX_CHECKED_MODULES)
