"""The worker's part in recording deaths: stacks to a file, the nanny and scheduler told.

:class:`DeathSetup` runs in each worker process (from the preload, or
``cluster_hook.register(client)``): it points faulthandler at this worker's
stack file, installs :class:`~cluster_hook._deaths.nanny.DeathReporter` on the
worker's nanny (which alone sees the exit code) and, when asked, registers
:class:`~cluster_hook._deaths.scheduler.DeathWatch` on the scheduler, so that
``dask worker --preload cluster_hook`` is all a cluster needs.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import WorkerPlugin
from distributed.protocol.pickle import dumps

from .._config import ConfigError, Settings
from .._names import DEATHS_PLUGIN_NAME
from .nanny import DeathReporter
from .scheduler import DeathWatch
from .stacks import disable, enable, stack_file

if TYPE_CHECKING:
    from distributed import Worker

logger = logging.getLogger("distributed.worker.cluster_hook")


class DeathSetup(WorkerPlugin):
    """Prepares a worker so that its death leaves a stack and an exit report."""

    name = DEATHS_PLUGIN_NAME
    idempotent = True

    def __init__(self, register_scheduler: bool = False, **settings: Any) -> None:
        self.register_scheduler = register_scheduler
        self.settings_overrides: dict[str, Any] = dict(settings)
        self._stack_file: Path | None = None
        self._nanny_task: asyncio.Future[None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "register_scheduler": self.register_scheduler,
            "settings_overrides": self.settings_overrides,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["register_scheduler"], **state["settings_overrides"])  # type: ignore[misc]

    async def setup(self, worker: Worker) -> None:
        try:
            settings = Settings.from_config(self.settings_overrides)
        except ConfigError as err:
            logger.error("dask-replay: worker deaths are not recorded: %s", err)
            return
        if not settings.enabled:
            return
        # Only a worker with a nanny has someone to read its stacks after its
        # death; one without (``--no-nanny``, LocalCluster(processes=False))
        # may share its process with a client whose faulthandler is its own.
        if worker.nanny:
            path = stack_file(settings.directory, str(worker.address))
            if enable(path):
                self._stack_file = path
            else:
                logger.warning(
                    "dask-replay: cannot create %s: no Python stacks if this worker dies", path
                )
            # The nanny answers no request until its own start is over, and that
            # waits for this worker to start: ask it from the background.
            self._nanny_task = asyncio.ensure_future(self._tell_nanny(worker))
        if self.register_scheduler:
            await self._tell_scheduler(worker)

    async def _tell_nanny(self, worker: Worker) -> None:
        reporter = DeathReporter(
            str(worker.address), str(self._stack_file) if self._stack_file else None
        )
        try:
            await worker.rpc(str(worker.nanny)).plugin_add(
                plugin=dumps(reporter), name=DEATHS_PLUGIN_NAME
            )
        except Exception as err:
            logger.warning("dask-replay: the nanny will not report this worker's exit: %s", err)

    async def _tell_scheduler(self, worker: Worker) -> None:
        try:
            await worker.scheduler.register_scheduler_plugin(
                plugin=dumps(DeathWatch(**self.settings_overrides)),
                name=DEATHS_PLUGIN_NAME,
                idempotent=True,
            )
        except Exception as err:
            logger.warning(
                "dask-replay: worker deaths are not recorded: the scheduler did not take the "
                "death watch (%s: %s); preload cluster_hook on the scheduler too "
                "(dask scheduler --preload cluster_hook)",
                type(err).__name__,
                err,
            )

    def teardown(self, worker: Worker) -> None:
        if self._nanny_task is not None:
            self._nanny_task.cancel()
        if self._stack_file is not None:
            disable(self._stack_file)
            self._stack_file = None
