"""The manifest's ``environment`` section: Python, platform, package versions, env vars."""

from __future__ import annotations

import fnmatch
import os
import platform
import socket
import sys
from collections.abc import Iterable
from typing import Any

from .._installed import package_version
from .redact import REDACTED, Redactor, is_secret_variable

#: Packages whose versions every snapshot records (spec 4.8).
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
