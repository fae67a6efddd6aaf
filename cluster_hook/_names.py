"""Every name the hook registers with distributed: plugins, event topics, its client id.

distributed keeps plugins by name, one registry per kind of server, so the
worker's, the nanny's and the scheduler's death plugins share one name.
Renaming any of these breaks ``unregister_worker_plugin(PLUGIN_NAME)`` and the
idempotent re-registration of a running cluster's plugins.
"""

from __future__ import annotations

#: The worker plugin that captures failing tasks (``SnapshotPlugin``).
PLUGIN_NAME = "dask-replay"
#: The death plugins: the worker's ``DeathSetup``, the nanny's ``DeathReporter``
#: and the scheduler's ``DeathWatch``.
DEATHS_PLUGIN_NAME = "dask-replay-deaths"
#: The client id under which the scheduler keeps a dead worker's tasks' inputs.
PIN_CLIENT = "dask-replay-deaths"
#: The client id under which the scheduler recomputes inputs lost with a worker
#: (``cluster_hook._lineage``): its own, so that its wants and PIN_CLIENT's never mix.
RECOVER_CLIENT = "dask-replay-recover"
#: The client id under which the scheduler keeps a captured task's inputs
#: (``cluster_hook._ondemand``) until its snapshot is written.
ONDEMAND_CLIENT = "dask-replay-capture"
#: The scheduler's plugin that holds the counted keys our client ids want (``_lineage.pins``).
PINS_PLUGIN_NAME = "dask-replay-pins"
#: Where workers publish each snapshot they write (``Worker.log_event``).
SNAPSHOT_TOPIC = "snapshot"
#: Where a nanny publishes how its worker process ended.
EXIT_TOPIC = "dask-replay-worker-exit"
#: The nanny's own event when it restarts a worker for its memory (distributed's name).
MEMORY_EVENT = "worker-restart-memory"
#: The scheduler's plugin that keeps one snapshot budget per failure for the cluster.
STORMS_PLUGIN_NAME = "dask-replay-storms"
#: The scheduler handler workers ask for a snapshot slot (``_storms``).
STORM_HANDLER = "dask_replay_storm_admit"
#: The scheduler's stream handler for failures of a spent budget (counted, not asked).
STORM_COUNT_HANDLER = "dask_replay_storm_count"
#: Where the scheduler publishes how often each failure happened across the cluster.
STORM_TOPIC = "snapshot-storm"
#: Where the scheduler's metadata says that it keeps the budget (the handler's name).
BUDGET_METADATA = ("dask-replay", "storm-budget")
#: The scheduler's plugin that lists the cluster's snapshots on the dashboard (``_dashboard``).
PAGES_PLUGIN_NAME = "dask-replay-pages"
#: The worker handler that renders one snapshot of its directory as an HTML page.
PAGE_HANDLER = "dask_replay_snapshot_page"
#: The worker handler that reads a bounded chunk of one snapshot of its directory.
READ_HANDLER = "dask_replay_snapshot_read"
#: Where the scheduler's metadata holds the Snapshots page's URL (for the workers' notes).
PAGES_METADATA = ("dask-replay", "snapshots-page")
