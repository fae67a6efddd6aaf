"""Capture every failing Dask task on its worker, at the raise, as a snapshot file.

Turn it on with ``dask worker SCHEDULER --preload cluster_hook``, with the
config ``distributed.worker.preload: [cluster_hook]`` (also
``DASK_DISTRIBUTED__WORKER__PRELOAD='["cluster_hook"]'``), or on a running
cluster with ``cluster_hook.register(client)``.  Settings live in Dask's
config under ``snapshot.`` (``DASK_SNAPSHOT__DIRECTORY=/path``); see
docs/configuration.md.  Importing this package registers their defaults.
"""

from __future__ import annotations

from ._config import ConfigError, Settings, default_directory, register_defaults
from ._fetch import fetch_snapshots
from ._plugin import PLUGIN_NAME, SnapshotPlugin, dask_setup, register
from ._storm import SUFFIX

register_defaults()

__all__ = [
    "PLUGIN_NAME",
    "SUFFIX",
    "ConfigError",
    "Settings",
    "SnapshotPlugin",
    "dask_setup",
    "default_directory",
    "fetch_snapshots",
    "register",
]
