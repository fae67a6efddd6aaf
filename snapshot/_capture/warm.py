"""Ahead of a process's first failure: what its first capture would otherwise pay for.

The Dask worker plugin runs :func:`warm_up` in a daemon thread of its own at
setup; plain Python does not (a decorated function's process may never fail).
"""

from __future__ import annotations

from .._installed import read_installed
from .._write.environment import PACKAGES, environment_info


def warm_up() -> None:
    """Read now what a first capture reads once per process: the installed
    distributions, which top-level module each provides (a module without a
    ``__version__`` is looked up there), the versions every snapshot records,
    and what the environment section caches (``platform.platform()`` runs
    ``uname -p`` once per process; the patterns of the variables' allowlist).

    About 20 ms of CPU once per process (140 distributions).  Never raises: a
    capture reads what this could not.
    """
    try:
        read_installed(PACKAGES)
        environment_info()
    except Exception:  # a capture reads again what this could not
        pass
