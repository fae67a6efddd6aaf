"""How a worker died, in the manifest's ``death`` section, from what the scheduler knows.

Three sources, all gathered by :class:`~cluster_hook._deaths.scheduler.DeathWatch`: what
the scheduler recorded when it removed the worker (``TaskState.suspicious``,
``allowed_failures``, the worker's memory limit and last heartbeat), the
nanny's exit report (:mod:`cluster_hook._deaths.nanny`: exit code and the
stacks faulthandler wrote) and the nanny's own ``worker-restart-memory`` event
(``NannyMemoryManager.memory_monitor``: the RSS at which it sent SIGTERM).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from typing import Any


def describe_death(
    record: Mapping[str, Any],
    report: Mapping[str, Any] | None,
    memory_event: Mapping[str, Any] | None,
    no_report: str | None = None,
) -> dict[str, Any]:
    """The manifest's ``death`` section, less the inputs (the writer adds those).

    ``no_report``: why there is no exit report (no nanny, a nanny that did not
    answer), said in the summary instead of a guess.
    """
    dead = dict(record["dead"])
    exitcode = report.get("exitcode") if report else None
    exitcode = exitcode if isinstance(exitcode, int) else None
    signum = -exitcode if exitcode is not None and exitcode < 0 else None
    signame = _signal_name(signum)
    stacks = report.get("stacks") if report else None
    rss = memory_event.get("rss") if memory_event else None
    limit = dead.get("memory_limit")
    if memory_event is not None:
        cause = "memory"
        how = "the nanny restarted it for using too much memory"
        if isinstance(rss, int) and limit:
            how += f" (RSS {_mib(rss)} of its {_mib(limit)} limit, {100 * rss / limit:.0f}%)"
        if signame:
            how += f"; it ended by {signame}"
    elif signum is not None:
        cause = "signal"
        how = f"it was killed by signal {signum} ({signame})"
    elif exitcode is not None:
        cause = "exit"
        how = f"it exited with status {exitcode}"
    else:
        cause = "unknown"
        how = "its connection to the scheduler closed and " + (
            no_report or "no nanny reported how it ended"
        )
    if stacks:
        stacks_reason = None
    elif signum == signal.SIGKILL:
        stacks_reason = (
            "SIGKILL cannot be caught, so the process left no stack (the kernel's OOM killer, "
            "or the nanny's second try after SIGTERM)"
        )
    elif report is None:
        stacks_reason = no_report or (
            "no nanny reported the exit (a worker without a nanny, or its nanny died)"
        )
    elif signum is None:
        stacks_reason = (
            "the process exited by itself, but not through Python's os._exit (C code's "
            "exit(), or a worker without cluster_hook): no stack was written"
        )
    else:
        stacks_reason = "the worker wrote no stack file (cluster_hook not loaded in it?)"
    suspicious = record["suspicious"]
    allowed = record["allowed_failures"]
    if record["killed_worker"]:
        then = "the client got KilledWorker"
    else:
        then = "the scheduler retries the task"
    summary = (
        f"worker {dead['worker']} died while running this task: {how}; "
        f"{suspicious} worker death(s) with this task so far, allowed-failures {allowed}: {then}"
    )
    return {
        "cause": cause,
        "summary": summary,
        **dead,
        "host": (report or {}).get("host") or dead.get("host"),
        "exit_code": exitcode,
        "signal": signum,
        "signal_name": signame,
        "rss_at_kill": rss if isinstance(rss, int) else None,
        "suspicious": suspicious,
        "allowed_failures": allowed,
        "killed_worker": bool(record["killed_worker"]),
        "executing": record["executing"],
        "stacks": stacks,
        "stacks_reason": stacks_reason,
        "time": record["time"],
        "stimulus_id": record["stimulus_id"],
    }


def _signal_name(signum: int | None) -> str | None:
    if signum is None:
        return None
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"
