"""Instructions the hook adds to one successful task, counted by valgrind's callgrind.

Wall and CPU times of the success path move by more than 2% with whatever else
runs on a shared machine; a count of instructions does not.  Each loop runs
N and 3N times in a child process under ``valgrind --tool=callgrind``
(PYTHONHASHSEED=0, one BLAS thread); the difference of the two counts over 2N iterations is the
count per iteration, start-up and imports cancelled out.

* ``task``: what the Dask hook adds to a task the worker runs: the plugin wraps
  the task's run_spec when it starts executing, the worker reads ``is_coro`` of
  it and calls it (a dask ``Task`` of ``inc(1)``), against the same ``Task``
  read and called plainly.  The plugin's ``transition`` on the other state
  changes returns at its first comparison; counted apart (``transition``).
* ``transition``: one of those calls as the worker makes it, through
  distributed's ``WorkerState._notify_plugins`` (``hasattr``, ``getattr``, a
  call with ``*args, **kwargs``), with the plugin registered against with no
  plugin.  A successful task makes 6 transitions on its worker.
* ``plain``: ``@snapshot.capture`` around a small JSON parse and sum, against
  the bare function (the plain-Python benchmark's function).

Usage: ``python scripts/count_hook_instructions.py [N]`` (needs valgrind).
"""

from __future__ import annotations

import sys

from benchmarks import _callgrind

CHILD = """
import sys, tempfile
what, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if what == "task":
    from dask._task_spec import Task
    from cluster_hook._wrapper import wrap
    from snapshot import Capturer, CaptureSettings
    def inc(x):
        return x + 1
    capturer = Capturer(CaptureSettings(directory=tempfile.mkdtemp()))
    task = Task("k", inc, 1)
    if mode == "on":
        for _ in range(n):
            wrapped = wrap(task, capturer)
            wrapped.is_coro
            wrapped({})
    else:
        for _ in range(n):
            task.is_coro
            task({})
elif what == "transition":
    import types
    from distributed.worker_state_machine import WorkerState
    from cluster_hook._plugin import SnapshotPlugin
    plugins = {"dask-replay": SnapshotPlugin()} if mode == "on" else {}
    holder = types.SimpleNamespace(plugins=plugins)
    notify = WorkerState._notify_plugins
    for _ in range(n):
        notify(holder, "transition", "k", "waiting", "ready")
else:
    import snapshot, benchmarks.plain as p
    f = p._small_work
    if mode == "on":
        f = snapshot.capture(directory=tempfile.mkdtemp())(f)
    for i in range(n):
        f(i)
"""


def per_iteration(what: str, mode: str, n: int) -> float:
    return _callgrind.per_iteration(CHILD, n, 3 * n, what, mode)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    for what in ("task", "transition", "plain"):
        # Importing distributed's worker varies by millions of instructions from one
        # start to the next: the cheap transition call needs many more iterations.
        k = n * 10 if what == "transition" else n
        on, off = per_iteration(what, "on", k), per_iteration(what, "off", k)
        print(
            f"{what}: {on:,.0f} instructions with the hook, {off:,.0f} without: "
            f"+{on - off:,.0f} ({on / off:.3f}x)"
        )


if __name__ == "__main__":
    main()
