"""The worker plugin and the ways to install it (preload, config, running cluster).

``transition`` runs on the worker's event loop for every transition of every
task, so it does the least possible: on ``-> executing`` it swaps the task's
run_spec for a :class:`~cluster_hook._wrapper.CapturingTask`.  Everything
else happens in the task's thread, and only when the task fails, in the
capture core (``snapshot.Capturer``) with dask's policy (``_policy``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import Client as ClientType
from distributed import Scheduler as SchedulerType
from distributed import WorkerPlugin

from snapshot import MemoryGuard, warm_up

from ._client.copies import install_client
from ._config import ConfigError, Settings, memory_guard
from ._dashboard.note import NotingCapturer, learn_pages_url
from ._dashboard.scheduler import SnapshotPages
from ._dashboard.worker import WorkerPages
from ._deaths.scheduler import DeathWatch
from ._deaths.worker import DeathSetup
from ._names import (
    DEATHS_PLUGIN_NAME,
    PAGES_PLUGIN_NAME,
    PLUGIN_NAME,
    SNAPSHOT_TOPIC,
    STORMS_PLUGIN_NAME,
)
from ._policy import dask_policy
from ._storms.scheduler import StormBudget
from ._storms.worker import ClusterAdmission, scheduler_has_budget
from ._wrapper import CapturingTask, wrap

if TYPE_CHECKING:
    from distributed import Client, Scheduler, Worker

logger = logging.getLogger("distributed.worker.cluster_hook")


def worker_capturer(
    settings: Settings,
    *,
    worker_address: str,
    worker_name: str,
    log_event: Callable[[str, Any], None],
    tasks: Mapping[Any, Any] | None = None,
    memory: MemoryGuard | None = None,
) -> NotingCapturer:
    """The capture core as one worker uses it: dask's policy, its log and events,
    notes that name the snapshot's dashboard page once the scheduler said where."""
    return NotingCapturer(
        settings,
        policy=dask_policy(tasks if tasks is not None else {}),
        origin={"worker": worker_address, "worker_name": worker_name},
        publish=lambda event: log_event(SNAPSHOT_TOPIC, event),
        memory=memory,
        # A child of the worker's logger, so that the warnings reach the worker's
        # log deque (Client.get_worker_logs, the dashboard) next to the failure.
        logger=logger,
    )


class SnapshotPlugin(WorkerPlugin):
    """Writes a snapshot of every failing task, at the raise, on the worker.

    ``settings`` override the worker's ``snapshot.*`` Dask config, e.g.
    ``SnapshotPlugin(directory="/scratch/snapshots")``; names may be kebab-case
    or snake_case.  The config is read on each worker, in :meth:`setup`.
    """

    name = PLUGIN_NAME
    idempotent = True

    def __init__(self, **settings: Any) -> None:
        self.settings_overrides: dict[str, Any] = dict(settings)
        self._capturer: NotingCapturer | None = None
        self._pages: WorkerPages | None = None
        self._tasks: Mapping[Any, Any] = {}
        self._scope_task: asyncio.Task[None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Shipped to workers by register_plugin: only the overrides travel.
        return {"settings_overrides": self.settings_overrides}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["settings_overrides"])  # type: ignore[misc]

    @property
    def settings(self) -> Settings | None:
        """The settings in force on this worker; None before setup or when disabled."""
        if self._capturer is None:
            return None
        settings = self._capturer.settings
        assert isinstance(settings, Settings)
        return settings

    def setup(self, worker: Worker) -> None:
        try:
            self._setup(worker)
        except Exception:  # a broken hook must not stop the worker from starting
            self._capturer = None
            logger.exception("dask-replay: snapshots are off on this worker")

    def _setup(self, worker: Worker) -> None:
        try:
            settings = Settings.from_config(self.settings_overrides)
        except ConfigError as err:
            logger.error("dask-replay: snapshots are off on this worker: %s", err)
            return
        if not settings.enabled:
            logger.info("dask-replay: snapshots are off (snapshot.enabled is false)")
            return
        self._tasks = worker.state.tasks
        # The dashboard's pages read only the configured directories (this worker's).
        self._pages = WorkerPages(lambda: _directories(settings))
        try:
            self._pages.install(worker)
        except Exception:  # the pages are a view: capture goes on without them
            logger.exception("dask-replay: the dashboard cannot show this worker's snapshots")
        self._capturer = worker_capturer(
            settings,
            worker_address=str(worker.address),
            worker_name=str(worker.name),
            log_event=worker.log_event,
            tasks=worker.state.tasks,
            memory=memory_guard(worker),
        )
        logger.info("dask-replay: failing tasks are captured to %s", settings.directory)
        # The packages' metadata read now, off the event loop: not by the first failure.
        threading.Thread(target=warm_up, name="dask-replay-warm-up", daemon=True).start()
        try:
            self._scope_task = asyncio.ensure_future(self._learn_scope(worker))
        except RuntimeError:  # no running loop: keep the per-process scope
            self._scope_task = None

    async def _learn_scope(self, worker: Worker) -> None:
        """Share storm counts among this cluster's workers: scope them by scheduler id."""
        for attempt in range(8):
            try:
                identity = await asyncio.wait_for(worker.scheduler.identity(n_workers=0), 30)
                if self._capturer is not None:
                    self._capturer.guard.set_scope(str(identity["id"]))
                    self._capturer.pages_url = await learn_pages_url(worker)
                # One budget per failure for the whole cluster, when the scheduler keeps one.
                if self._capturer is not None and await scheduler_has_budget(worker):
                    limit = self._capturer.settings.max_per_fingerprint
                    self._capturer.guard.set_cluster(ClusterAdmission(worker, limit))
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(0.5 * 2**attempt)
        logger.info("dask-replay: scheduler id unknown; storm limits count per worker process")

    def teardown(self, worker: Worker) -> None:
        self._capturer = None
        if self._pages is not None:
            self._pages.uninstall(worker)
            self._pages = None
        if self._scope_task is not None:
            self._scope_task.cancel()

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or self._capturer is None:
            return
        ts = self._tasks.get(key)
        if ts is None:
            return
        spec = ts.run_spec
        if spec is None or isinstance(spec, CapturingTask):
            return
        ts.run_spec = wrap(spec, self._capturer)


def _directories(settings: Settings) -> list[Path]:
    """The snapshot directories of this worker: its plugin's, and the config's if another."""
    found = [Path(settings.directory)]
    try:
        configured = Path(Settings.from_config().directory)
    except ConfigError:
        return found
    return found if configured == found[0] else [*found, configured]


async def dask_setup(server: Worker | Scheduler | Client) -> None:
    """Preload entry point: ``dask worker SCHEDULER --preload cluster_hook`` (also
    ``dask scheduler --preload cluster_hook``, which records worker deaths and keeps
    the cluster's storm budget, and ``distributed.client.preload``, which keeps the
    client's copies: ``_client``)."""
    if isinstance(server, ClientType):
        install_client(server)
        return
    if isinstance(server, SchedulerType):
        server.add_plugin(DeathWatch(), name=DEATHS_PLUGIN_NAME, idempotent=True)
        server.add_plugin(StormBudget(), name=STORMS_PLUGIN_NAME, idempotent=True)
        server.add_plugin(SnapshotPages(), name=PAGES_PLUGIN_NAME, idempotent=True)
        return
    await server.plugin_add(SnapshotPlugin(), name=PLUGIN_NAME)
    await server.plugin_add(DeathSetup(register_scheduler=True), name=DEATHS_PLUGIN_NAME)


def register(client: Client, **settings: Any) -> Any:
    """Install the hook on every worker of a running cluster (and future ones).

    ``cluster_hook.register(client)``; ``settings`` override ``snapshot.*`` on
    the workers, e.g. ``register(client, directory="/scratch/snapshots")``, and
    ``client_directory`` / ``client_max_size`` those of the client's part.
    Returns what ``Client.register_plugin`` returns: each worker's status.
    Also installs the client's part (``_client``) on ``client``.
    """
    client_part = {
        k: settings.pop(k)
        for k in list(settings)
        if k.replace("_", "-") in ("client-directory", "client-max-size")
    }
    install_client(client, **client_part)

    client.register_plugin(DeathWatch(**settings))
    client.register_plugin(StormBudget())
    client.register_plugin(SnapshotPages())
    client.register_plugin(DeathSetup(**settings))
    return client.register_plugin(SnapshotPlugin(**settings))
