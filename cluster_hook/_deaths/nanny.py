"""The nanny's report of how its worker process ended: exit code, signal, stacks.

Only the nanny sees the worker's exit code (``WorkerProcess.mark_stopped``
logs it and calls the ``on_exit`` callback with it), and it tells the
scheduler nothing but "unregister".  :class:`DeathReporter` wraps that
callback: when the process ends with a non-zero status it publishes, on the
``dask-replay-worker-exit`` topic, the worker's address, the exit code and
the stacks faulthandler wrote (:mod:`cluster_hook._deaths.stacks`), then calls
the nanny's own callback, which restarts the worker as before.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distributed import NannyPlugin

from .._names import DEATHS_PLUGIN_NAME, EXIT_TOPIC
from .stacks import collect

logger = logging.getLogger("distributed.nanny.cluster_hook")


class _ExitHook:
    """Stands in for ``Nanny._on_worker_exit_sync``: report, then call the original."""

    def __init__(self, reporter: DeathReporter, nanny: Any, original: Callable[[int], Any]):
        self.reporter = reporter
        self.nanny = nanny
        self.original = original

    def __call__(self, exitcode: int) -> Any:
        try:
            status = getattr(getattr(self.nanny, "status", None), "name", "")
            # A nanny that is closing ends its worker itself: not a death.
            if exitcode and status not in ("closing", "closed", "closing_gracefully", "failed"):
                self.reporter.report(self.nanny, exitcode)
        except Exception:  # never stand between the nanny and its restart
            logger.exception("dask-replay: could not report the worker's exit")
        return self.original(exitcode)


class DeathReporter(NannyPlugin):
    """Installed on a nanny by its worker, which names its faulthandler file."""

    name = DEATHS_PLUGIN_NAME

    def __init__(self, worker_address: str | None = None, stack_file: str | None = None) -> None:
        self.worker_address = worker_address
        self.stack_file = stack_file
        #: The latest reports, for a scheduler that missed the event (:func:`exit_report`).
        self.reports: deque[dict[str, Any]] = deque(maxlen=16)

    def setup(self, nanny: Any) -> None:
        current = getattr(nanny, "_on_worker_exit_sync", None)
        if isinstance(current, _ExitHook):
            self.reports.extend(current.reporter.reports)
            current.reporter = self  # a restarted worker brings its new file name
            return
        if current is None:
            logger.info("dask-replay: this nanny has no exit callback; exits are not reported")
            return
        hook = _ExitHook(self, nanny, current)
        # instantiate() reads the attribute for each new WorkerProcess; the one
        # running now was given the bound method already.
        nanny._on_worker_exit_sync = hook
        process = getattr(nanny, "process", None)
        if process is not None and getattr(process, "on_exit", None) == current:
            process.on_exit = hook

    def teardown(self, nanny: Any) -> None:
        hook = getattr(nanny, "_on_worker_exit_sync", None)
        if isinstance(hook, _ExitHook) and hook.reporter is self:
            original = hook.original
            nanny._on_worker_exit_sync = original
            process = getattr(nanny, "process", None)
            if process is not None and getattr(process, "on_exit", None) is hook:
                process.on_exit = original

    def report(self, nanny: Any, exitcode: int) -> None:
        # The nanny reuses its WorkerProcess: a worker that dies before the
        # nanny heard its address is reported under its predecessor's.  The
        # scheduler also matches a report by its nanny and its time.
        process = getattr(nanny, "process", None)
        address = getattr(process, "worker_address", None) or self.worker_address
        stacks = collect(Path(self.stack_file)) if self.stack_file else None
        report = {
            "worker": address,
            "exitcode": int(exitcode),
            "host": socket.gethostname(),
            "nanny": getattr(nanny, "address", None),
            "stacks": stacks,
            "stack_file": self.stack_file,
            "time": time.time(),
        }
        self.reports.append(report)
        nanny.log_event(EXIT_TOPIC, report)


def exit_report(
    worker_address: str, since: float | None = None, dask_worker: Any = None
) -> dict[str, Any] | None:
    """Runs on a nanny (``Nanny.run``): its report of ``worker_address``'s exit, if it has one.

    The scheduler asks when the ``dask-replay-worker-exit`` event did not arrive
    in time (the nanny was slow, or its message was lost).  ``since``: when
    that worker registered; this nanny's first exit after it is its exit.
    """
    reporter = getattr(dask_worker, "plugins", {}).get(DEATHS_PLUGIN_NAME)
    reports = list(getattr(reporter, "reports", None) or ())
    for report in reversed(reports):
        if report.get("worker") == worker_address:
            return dict(report)
    later = [r for r in reports if since is not None and float(r.get("time") or 0) >= since]
    return dict(later[0]) if later else None
