"""Capture every failing Dask task on its worker, at the raise, as a snapshot file.

Turn it on with ``dask worker SCHEDULER --preload cluster_hook``, with the
config ``distributed.worker.preload: [cluster_hook]`` (also
``DASK_DISTRIBUTED__WORKER__PRELOAD='["cluster_hook"]'``), or on a running
cluster with ``cluster_hook.register(client)``.  Settings live in Dask's
config under ``snapshot.`` (``DASK_SNAPSHOT__DIRECTORY=/path``); see
docs/configuration.md.  Importing this package registers their defaults.

The capture itself (wrapper, budgets, memory guard, contents, storms, the
directory) is snapshot's Dask-free core; this package is the Dask adapter:
the plugins (``_plugin``), dask's capture policy (``_policy``, ``_unwrap``,
``_scrub``), worker deaths (``_deaths/``), the cluster's storm budget (``_storms/``), the client's part (``_client/``),
the Snapshots pages on the dashboard (``_dashboard/``),
snapshots asked for with :func:`capture` (``_ondemand/``),
the config (``_config``) and the names it registers (``_names``).
"""

from __future__ import annotations

from snapshot import SNAPSHOT_SUFFIX as SUFFIX

from ._client.fetch import fetch_snapshots
from ._config import ConfigError, Settings, default_directory, register_defaults
from ._names import PLUGIN_NAME
from ._ondemand.api import CaptureError, capture
from ._plugin import SnapshotPlugin, dask_setup, register
from ._storms.scheduler import StormBudget, storm_counts

register_defaults()

__all__ = [
    "PLUGIN_NAME",
    "SUFFIX",
    "CaptureError",
    "ConfigError",
    "Settings",
    "SnapshotPlugin",
    "StormBudget",
    "capture",
    "dask_setup",
    "default_directory",
    "fetch_snapshots",
    "register",
    "storm_counts",
]
