"""What is installed here: versions of packages and top-level modules, found without importing them.

Both sides ask: the writer records the version of each module a piece needs,
the reader names the versions that differ when a piece fails to load.

The distributions are found as ``importlib.metadata`` finds them on
``sys.path`` (``*.dist-info`` and ``*.egg-info`` entries, the first on the
path winning a name), but read directly: a directory listing per path entry,
one small file per distribution asked about (its ``METADATA`` headers, its
``top_level.txt`` or ``RECORD``), no stat of every installed file.  In a Dask
worker ``importlib.metadata.packages_distributions()`` took some 200 ms of CPU
(the ``importlib_metadata`` backport's finder checks that each file of each
``RECORD`` exists); this reading takes a few milliseconds.  A distribution
that only another finder knows (a zip on the path, an import hook) is still
asked of ``importlib.metadata``.  A module's version is its ``__version__``
when imported, else that of the distribution named like it if that one
provides it, else of the first on the path that does (``top_level.txt``, or
the modules its ``RECORD`` lists, as ``packages_distributions`` reads them).
"""

from __future__ import annotations

import csv
import functools
import os
import re
import sys
import threading

_METADATA = ".dist-info", ".egg-info"
#: Suffixes of importable files, for a distribution without ``top_level.txt``.
_MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")

_lock = threading.Lock()
#: Seconds a capture waits for another thread's reading (a few ms normally; a
#: directory on a hung network mount must not hold a task's thread).
LOCK_WAIT = 2.0
#: Normalized distribution name -> its metadata (directory or egg-info file), first on the path.
_found: dict[str, str] | None = None
#: Top-level module -> the metadata of each distribution that provides it, in path order.
_providers: dict[str, list[str]] | None = None
#: Whether a wait for the lock timed out once (see :func:`_take_lock`).
_gave_up = False


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares names: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed() -> dict[str, str] | None:
    """Every distribution on ``sys.path``, listed once per process under the lock (a
    capture that asks while :func:`read_installed` lists waits rather than lists
    twice); None when the listing is not there yet and the lock did not come."""
    global _found
    if _found is None:
        if not _take_lock():
            return None
        try:
            if _found is None:
                _found = _list_installed()
        finally:
            _lock.release()
    return _found


def _take_lock() -> bool:
    """The lock, waited for at most :data:`LOCK_WAIT` once per process: after one
    timeout (a reading stuck on a hung mount) later asks do not wait again."""
    global _gave_up
    if _lock.acquire(timeout=0 if _gave_up else LOCK_WAIT):
        return True
    _gave_up = True
    return False


def _list_installed() -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in list(sys.path):
        for path in _metadata_paths(entry):
            name = os.path.basename(path).rsplit(".", 1)[0].split("-", 1)[0]
            found.setdefault(normalize(name), path)
    return found


def _metadata_paths(entry: str) -> list[str]:
    """The ``*.dist-info`` / ``*.egg-info`` entries of one ``sys.path`` directory."""
    if not isinstance(entry, str):  # importlib skips these too (bytes, None)
        return []
    try:
        names = sorted(os.listdir(entry or "."))
    except (OSError, ValueError):
        return []
    return [os.path.join(entry, n) for n in names if n.endswith(_METADATA)]


def _member(metadata: str, member: str) -> str | None:
    """The path of one file of a distribution's metadata (an egg-info file is itself
    its PKG-INFO; a dist-info is always a directory: no stat to tell)."""
    if metadata.endswith(".egg-info") and os.path.isfile(metadata):
        return metadata if member == "PKG-INFO" else None
    return os.path.join(metadata, member)


def _read_text(metadata: str, member: str) -> str | None:
    path = _member(metadata, member)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(4 * 1024 * 1024)
    except OSError:
        return None


def _version_at(metadata: str) -> str | None:
    """The ``Version:`` header of a distribution's METADATA (PKG-INFO for an egg)."""
    path = _member(metadata, "METADATA" if metadata.endswith(".dist-info") else "PKG-INFO")
    try:
        with open(path or "", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    return None  # the end of the headers
                field, sep, value = line.partition(":")
                if sep and field.strip().lower() == "version":
                    return value.strip() or None
    except OSError:
        return None
    return None


def _top_levels(metadata: str) -> set[str]:
    """The top-level modules a distribution provides: its ``top_level.txt``, else the
    modules its ``RECORD`` lists (what ``packages_distributions`` reads)."""
    declared = _read_text(metadata, "top_level.txt")
    if declared and declared.split():
        return set(declared.split())
    record = _read_text(metadata, "RECORD")
    if record is not None:
        lines = record.splitlines()
        # Each line up to its first "/": a few dozen distinct heads, each a package
        # directory or a whole line for a top-level file (``six.py,sha256=...,1234``).
        heads = {line.partition("/")[0] for line in lines if not line.startswith('"')}
        paths = [h.partition(",")[0] if "," in h else h + "/" for h in heads]
        paths += [_quoted_path(line) for line in lines if line.startswith('"')]
    else:  # an egg: installed-files.txt names its paths from the egg-info
        listed = (_read_text(metadata, "installed-files.txt") or "").splitlines()
        paths = [p[3:] if p.startswith("../") else "../" + p for p in listed]
    found = set()
    for path in paths:
        top, sep, _ = path.partition("/")
        if sep:  # a package (a directory of data named like a module: no one imports it)
            found.add(top)
        elif top.endswith(_MODULE_SUFFIXES):  # a module: six.py, _cffi.cpython-311-...so
            found.add(top.split(".", 1)[0])
    return {top for top in found if top.isidentifier() and top != "__pycache__"}


def _quoted_path(line: str) -> str:
    """A RECORD line whose path holds a comma is quoted (CSV): rare, read with csv."""
    try:
        return next(csv.reader([line]), [""])[0]
    except csv.Error:  # a damaged line: not a module
        return ""


def _all_providers() -> dict[str, list[str]] | None:
    """Top-level module -> distributions' metadata, read once per process under the
    lock; None while another thread holds it (see :func:`_take_lock`)."""
    global _providers
    if _providers is None:
        installed = _installed()
        if installed is None or not _take_lock():
            return None
        try:
            if _providers is None:
                providers: dict[str, list[str]] = {}
                for path in dict.fromkeys(installed.values()):
                    for top in _top_levels(path):
                        providers.setdefault(top, []).append(path)
                _providers = providers
        finally:
            _lock.release()
    return _providers


def package_version(distribution: str) -> str | None:
    """The installed version of a distribution (``"dask-replay"``), or None."""
    if _installed() is None:  # not listed yet, and not waited for: nothing cached
        return _metadata_version(distribution)
    return _package_version(normalize(distribution), distribution)


@functools.lru_cache(maxsize=256)
def _package_version(normalized: str, distribution: str) -> str | None:
    metadata = (_found or {}).get(normalized)
    if metadata is not None:
        return _version_at(metadata)
    return _metadata_version(distribution)


def _metadata_version(distribution: str) -> str | None:
    """``importlib.metadata``'s answer: a distribution only another finder knows."""
    import importlib.metadata  # about 13 ms to import

    try:
        return importlib.metadata.version(distribution)
    except Exception:  # not found; or its own reading failed (a bytes entry on the path)
        return None


def provided_version(top_level: str) -> str | None:
    """The version of the installed distribution that provides a top-level module
    (``yaml``: PyYAML's), read from metadata, never by importing it; None if none does."""
    installed = _installed()
    providers = _all_providers() if installed is not None else None
    if installed is None or providers is None:  # not read yet: nothing cached
        return None
    return _provided_version(top_level)


@functools.lru_cache(maxsize=1024)
def _provided_version(top_level: str) -> str | None:
    # The distribution named like the module first (``numpy``), when it provides it:
    # one file read instead of every distribution's.
    installed, providers = _found or {}, _providers or {}
    named = installed.get(normalize(top_level))
    if named is not None and top_level in _top_levels(named):
        version = _version_at(named)
        if version:
            return version
    for metadata in providers.get(top_level, []):
        version = _version_at(metadata)
        if version:
            return version
    return None


def module_version(top_level: str) -> str | None:
    """Best-effort version of an importable top-level module, without importing it."""
    module = sys.modules.get(top_level)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    return provided_version(top_level)


def read_installed(distributions: tuple[str, ...] = ()) -> None:
    """Read the installed packages' metadata now, ahead of a first failure: the
    distributions on the path, which modules each provides, the versions of
    ``distributions``.  Never raises."""
    try:
        _all_providers()
        for name in distributions:
            package_version(name)
    except Exception:  # a broken dist-info: the capture reads what it can
        pass
