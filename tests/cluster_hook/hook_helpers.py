"""Shared helpers: replaying snapshots in a fresh interpreter, reading notes.

A module of its own, with a unique name (not ``conftest``): pytest puts every
test directory on ``sys.path``, and process workers import what the tests
send them by module name.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

NOTE = re.compile(r"^dask-replay: snapshot written to (?P<host>[^:]+):(?P<path>.+)$", re.MULTILINE)

# Runs in a fresh interpreter: no cluster, no test module, only the files.
_CHECK = r"""
import asyncio, inspect, json, sys
import snapshot

def is_zero(v):
    try:
        return type(v) is not bool and bool(v == 0)
    except Exception:
        return False

out = {}
for path in sys.argv[1:]:
    r = {}
    try:
        s = snapshot.open_snapshot(path)
        m = s.manifest
        r["error"] = m["error"]["type"]
        r["origin"] = m.get("call", {}).get("origin")
        r["task"] = m.get("task")
        func, args, kwargs = s.call()
        r["func"] = getattr(func, "__name__", type(func).__name__)
        try:
            result = func(*args, **kwargs)
            if inspect.iscoroutine(result):  # an async def task
                asyncio.run(result)
            r["raised"] = None
        except BaseException as e:
            r["raised"] = type(e).__name__
        r["x_zero"] = any(
            is_zero(s.frame_locals(i).get("x")) for i in range(len(m["frames"]))
        )
    except Exception as e:
        r["failure"] = f"{type(e).__name__}: {e}"
    out[path] = r
print(json.dumps(out))
"""


def replay_in_fresh_process(paths: list[str | Path]) -> dict[str, dict[str, Any]]:
    """Open each snapshot in a new interpreter, call its call; report what happened."""
    if not paths:
        return {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    # The workers pickled hook_userfuncs' functions by reference (distributed
    # ships them with plain pickle): like any installed module, the replaying
    # interpreter must be able to import it.
    env["PYTHONPATH"] = str(HERE)
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def snapshot_paths_in_notes(exc: BaseException) -> list[str]:
    """The paths that the hook's notes on a client-side exception name."""
    out = []
    for note in getattr(exc, "__notes__", []):
        m = NOTE.match(note)
        if m:
            out.append(m["path"])
    return out


def limit_file_size(limit: int) -> None:
    """Runs in a worker process: files past ``limit`` bytes fail with EFBIG, as
    on a full disk (Python ignores SIGXFSZ, so the write raises OSError)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
