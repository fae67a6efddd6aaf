"""A worker's death as the hook records it (spec 4.10), written by the real writer."""

from __future__ import annotations

from pathlib import Path

import snapshot

STACKS = """\
Fatal Python error: Segmentation fault

Current thread 0x00007f3a (most recent call first):
  File "/worker/home/job.py", line 7 in hog
  File "/opt/conda/lib/python3.11/site-packages/dask/_task_spec.py", line 768 in __call__
"""


def hog(step: int) -> list[bytes]:
    chunks = []
    while True:
        chunks.append(b"x" * step * (len(chunks) + 1))


def write(path: Path) -> Path:
    builder = snapshot.SnapshotBuilder()
    builder.set_call(hog, (1024,), origin="run_spec")
    builder.add_inputs({})
    summary = "worker tcp://10.0.0.5:4000 died while running this task: out of memory"
    builder.manifest["death"] = {
        "cause": "memory",
        "summary": summary,
        "worker": "tcp://10.0.0.5:4000",
        "host": "node1",
        "pid": 4242,
        "memory_limit": 300_000_000,
        "memory": {"process": 250_000_000, "managed": 1_000_000, "unmanaged": 249_000_000},
        "rss_at_kill": 290_000_000,
        "exit_code": -15,
        "signal": 15,
        "signal_name": "SIGTERM",
        "killed_worker": True,
        "stacks": STACKS,
        "lost_inputs": [{"key": "load-7", "reason": "its only copy was on the dead worker"}],
    }
    builder.manifest["task"] = {"key": "hog-1"}
    builder.manifest["error"] = {
        "type": "KilledWorker",
        "module": "distributed.scheduler",
        "message": summary,
        "traceback": STACKS,
    }
    builder.write(path)
    return path
