"""LocalClusters with the hook enabled the way users enable it, or without it."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

#: Both arms of every comparison log only errors: 10,000 failing tasks would
#: otherwise print 10,000 "Compute Failed" warnings (as costly with the hook as
#: without it, and unreadable).  Set before distributed is first imported.
QUIET = {"DASK_LOGGING__DISTRIBUTED": "critical"}


def quiet_logs() -> None:
    os.environ.update(QUIET)


@contextmanager
def local_cluster(
    *,
    hook: bool,
    directory: Path | None = None,
    settings: Mapping[str, Any] | None = None,
    n_workers: int = 2,
    scheduler_hook: bool = False,
) -> Iterator[Client]:
    """``LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True)``, its client.

    With ``hook``, the workers load ``cluster_hook`` through the Dask config key
    ``distributed.worker.preload``, writing to ``directory``; without it, the
    same cluster with no preload.  Checks that the plugin is (or is not) there.
    With ``scheduler_hook`` too, the scheduler loads it through
    ``distributed.scheduler.preload`` (deaths and the cluster's storm budget).
    """
    import dask.config
    from distributed import Client, LocalCluster

    config: dict[str, Any] = {"distributed.worker.preload": []}
    if hook:
        if directory is None:
            raise ValueError("a cluster with the hook needs a snapshot directory")
        config = {
            "distributed.worker.preload": ["cluster_hook"],
            "snapshot.directory": str(directory),
            **{f"snapshot.{k}": v for k, v in (settings or {}).items()},
        }
        if scheduler_hook:
            config["distributed.scheduler.preload"] = ["cluster_hook"]
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=True) as client,
    ):
        client.wait_for_workers(n_workers)
        loaded = client.run(has_hook)
        if set(loaded.values()) != {hook}:
            raise RuntimeError(f"expected the hook {'on' if hook else 'off'}; workers: {loaded}")
        yield client


def has_hook(dask_worker: Any) -> bool:
    """On a worker (``client.run``): is the dask-replay plugin installed?"""
    from cluster_hook import PLUGIN_NAME

    return PLUGIN_NAME in dask_worker.plugins
