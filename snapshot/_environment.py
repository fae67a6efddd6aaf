"""What the capturing machine looked like: Python, platform, package versions, env vars."""

from __future__ import annotations

import fnmatch
import functools
import os
import platform
import socket
import sys
from collections.abc import Iterable
from typing import Any

from ._write.redact import REDACTED, Redactor, is_secret_variable

#: Packages whose versions every snapshot records (issue: format 1.0).
PACKAGES: tuple[str, ...] = (
    "dask",
    "distributed",
    "cloudpickle",
    "numpy",
    "pandas",
    "pyarrow",
    "zstandard",
    "tblib",
    "dask-replay",
)

#: Environment variables that explain behaviour; secrets among them are redacted.
DEFAULT_ENV_ALLOW: tuple[str, ...] = (
    "PATH",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "OMP_*",
    "MKL_*",
    "OPENBLAS_*",
    "NUMEXPR_*",
    "CUDA_VISIBLE_DEVICES",
    "MALLOC_*",
    "DASK_*",
)


@functools.lru_cache(maxsize=256)
def package_version(distribution: str) -> str | None:
    import importlib.metadata  # ~13 ms: imported when a version is first asked for

    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


@functools.lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
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
    return top_level in sys.stdlib_module_names or top_level == "builtins"


def environment_variables(
    allow: Iterable[str] = DEFAULT_ENV_ALLOW, redactor: Redactor | None = None
) -> dict[str, str]:
    """The allow-listed variables; secret ones redacted whatever the allowlist says.

    A name with KEY, TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL, AUTH or
    SIGNATURE in it (``DASK_SNAPSHOT__KEY``), or matching ``redactor``'s
    patterns, or a value holding one of its literals (the signing key) is
    :data:`REDACTED`; credentials inside other values (URLs) are cut out.
    """
    redactor = redactor or Redactor()
    patterns = list(allow)
    out = {}
    for name, value in sorted(os.environ.items()):
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            secret = (
                is_secret_variable(name)
                or redactor.is_secret(name)
                or redactor.holds_literal(value)
            )
            out[name] = REDACTED if secret else redactor.redact_text(value)
    return out


def environment_info(
    env_allow: Iterable[str] = DEFAULT_ENV_ALLOW, redactor: Redactor | None = None
) -> dict[str, Any]:
    """The ``environment`` section of a manifest."""
    packages = {}
    for name in PACKAGES:
        version = package_version(name)
        if version is not None:
            packages[name] = version
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "packages": packages,
        "variables": environment_variables(env_allow, redactor),
    }
