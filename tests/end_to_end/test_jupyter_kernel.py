"""The notebook story, in a real Jupyter kernel: a failed task, ``%debug``, then the copy offline.

One kernel (jupyter_client), one LocalCluster(processes=True) with the hook
on the workers and the client (``dask.config``, as a user sets it).  The
seed's cells define ``dec`` and ``recip``; the compute fails; plain
``%debug`` opens the frames captured on the worker, with the cell's source
(``ll``) and the worker's ``x`` (``p x``).  ``replay.debug(future)`` re-runs
the call at the raise, while the cluster is up and after the client closed
(the client part's copy is found by the future's key).  Then the kernel is
gone, and a fresh process in another directory opens the client's copy of the
snapshot: the cell travelled with it.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.timeout(600)

ANSI = re.compile(r"\x1b\[[0-9;]*m")

SETUP = """\
import dask
dask.config.set({{
    "distributed.worker.preload": ["cluster_hook"],
    "distributed.client.preload": ["cluster_hook"],
    "snapshot.directory": {snapshots!r},
    "snapshot.client-directory": {copies!r},
}})
from dask import delayed
from distributed import Client, LocalCluster
cluster = LocalCluster(processes=True, n_workers=1, threads_per_worker=1, dashboard_address=None)
client = Client(cluster)
"""

CELL = """\
def dec(x):
    return x - 1

def recip(x):
    return 1 / x
"""

FAIL = """\
out = delayed(sum)([delayed(recip)(delayed(dec)(x)) for x in [9, 4, 2, 1]])
out.compute()
"""


class Kernel:
    def __init__(self, client: Any) -> None:
        self.client = client

    def run(self, code: str, answers: tuple[str, ...] = (), timeout: float = 300) -> str:
        """Execute ``code``; answer its ``input()`` prompts with ``answers``; return its output."""
        pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for answer in answers:
            pending.put(answer)
        out: list[str] = []

        def output(msg: dict[str, Any]) -> None:
            content = msg["content"]
            if msg["msg_type"] == "stream":
                out.append(content["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(content["traceback"]))
            elif msg["msg_type"] in {"execute_result", "display_data"}:
                out.append(content["data"].get("text/plain", ""))

        def stdin(msg: dict[str, Any]) -> None:
            out.append(msg["content"].get("prompt", ""))
            self.client.input(pending.get_nowait() if not pending.empty() else "q")

        self.client.execute_interactive(
            code, timeout=timeout, output_hook=output, stdin_hook=stdin, allow_stdin=True
        )
        return "".join(out)


def test_debug_in_a_kernel_then_the_client_copy_offline(tmp_path: Path) -> None:
    snapshots, copies = tmp_path / "snapshots", tmp_path / "copies"
    work = tmp_path / "notebook"
    work.mkdir()
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(work), startup_timeout=240)
    try:
        kernel = Kernel(client)
        assert "Error" not in kernel.run(SETUP.format(snapshots=str(snapshots), copies=str(copies)))
        kernel.run(CELL)
        failed = kernel.run(FAIL)
        assert "ZeroDivisionError" in failed and "dask-replay: snapshot written to" in failed

        shown = ANSI.sub("", kernel.run("%debug", answers=("ll", "p x", "up", "q")))
        # Prompts (stdin channel) and output (iopub) arrive in either order: drop the prompts.
        shown = shown.replace("ipdb> ", "")
        # IPython's debugger (ipdb): the cell as ll lists it, the arrow at the raise.
        assert re.search(r"^      4 def recip\(x\):\n----> 5     return 1 / x$", shown, re.M), shown
        # p x: the worker's x
        assert re.search(r"^0$", shown, re.M), shown
        assert re.search(r"^> .*_task_spec\.py\(\d+\)__call__\(\)$", shown, re.M), shown

        # %replay: the last cell's failed task, re-run under pdb; --frames: the captured frames.
        shown = ANSI.sub("", kernel.run("%replay", answers=("p x", "q"))).replace("ipdb> ", "")
        assert "Reproduced" in shown and re.search(r"^0$", shown, re.M), shown
        shown = kernel.run("%replay --frames", answers=("ll", "p x", "q"))
        shown = ANSI.sub("", shown).replace("ipdb> ", "")
        assert re.search(r"^----> 5     return 1 / x$", shown, re.M), shown
        assert re.search(r"^0$", shown, re.M), shown
        assert "cannot evaluate 'nowhere'" in kernel.run("%replay nowhere")

        # One call from a failed Future to the debugger: the re-run, at the raise.
        kernel.run("import distributed, replay\nfuture = client.compute(out)")
        kernel.run("distributed.wait(future)")
        shown = kernel.run("replay.debug(future)", answers=("p x", "q"))
        shown = ANSI.sub("", shown).replace("ipdb> ", "")
        assert "ZeroDivisionError" in shown and re.search(r"^0$", shown, re.M), shown

        deadline = time.monotonic() + 180
        while len(list(copies.glob(".*.keys.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        kernel.run("client.close(); cluster.close()")
        # Closed: distributed cancelled the future; the client's copy is found by its key.
        shown = kernel.run("replay.debug(future)", answers=("p x", "q"))
        shown = ANSI.sub("", shown).replace("ipdb> ", "")
        assert "ZeroDivisionError" in shown and re.search(r"^0$", shown, re.M), shown
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    copy = max(copies.glob("*.tar.zst"), key=lambda p: p.stat().st_mtime)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    offline = subprocess.run(
        [sys.executable, "-m", "replay", str(copy)],
        input="ll\np x\nq\n",
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={k: v for k, v in os.environ.items() if not k.startswith("DASK_")},
        timeout=300,
    )
    assert "->\t    return 1 / x" in offline.stdout, offline.stdout + offline.stderr
    assert "def recip(x):" in offline.stdout
    assert "(Pdb) 0\n" in offline.stdout
