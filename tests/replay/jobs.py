"""Snapshots made in-process with ``snapshot.SnapshotBuilder``, as a worker would make them,
and the command line run as a user runs it.

The failing functions are compiled from source under a filename that does not
exist on this machine (``/worker/home/job.py``) and a module name that is not
importable, so cloudpickle pickles them by value, as it does for functions
defined in a client's ``__main__``: a replay in another process, from another
directory, needs nothing but the snapshot.
"""

from __future__ import annotations

import json
import linecache
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crafting import compress, member, tar_bytes

import snapshot

WORKER_FILE = "/worker/home/job.py"

JOB_SOURCE = """\
import os


def dec(x):
    return x - 1


def recip(x):
    scale = 1
    return scale / x


def call_service(x):
    if os.environ.get("REPLAY_TEST_SERVICE_DOWN"):
        raise ConnectionError("service unavailable")
    return x


def outer(values):
    total = sum(values)
    return inner(total, len(values))


def inner(total, count):
    mean = total / count
    return mean / (total - total)
"""


def compile_job(source: str = JOB_SOURCE, filename: str = WORKER_FILE) -> dict[str, Any]:
    """Define the job's functions as a worker would hold them, source in linecache."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "worker_job"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def write_snapshot(
    path: Path,
    func: Callable[..., Any],
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    *,
    inputs: Mapping[object, object] | None = None,
    task_key: str = "recip-123",
    key: bytes | None = None,
    edit: Callable[[snapshot.SnapshotBuilder], None] | None = None,
) -> Path:
    """Run ``func`` (it must raise), capture the failure as a worker would, write it."""
    builder = snapshot.SnapshotBuilder()
    try:
        func(*args, **(kwargs or {}))
    except Exception as exc:
        # Frame 0 is this helper; the worker's capture likewise skips its own frames.
        builder.capture_exception(exc, skip_frames=1)
    else:
        raise AssertionError(f"{func!r} did not raise")
    builder.set_call(func, args, kwargs)
    builder.add_inputs(dict(inputs or {}))
    builder.manifest["task"] = {"key": task_key}
    if edit is not None:
        edit(builder)
    builder.write(path, key=key)
    return path


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    python_code: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m replay ARGS`` as a user would, commands for pdb on stdin."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REPLAY_TEST_", "DASK_SNAPSHOT__KEY"))
    }
    environ.pop("PYTHONBREAKPOINT", None)
    inherited = environ.get("PYTHONPATH")
    environ.update(env or {})
    if env and "PYTHONPATH" in env and inherited:  # the package under test stays importable
        environ["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], inherited])
    command = [sys.executable]
    command += ["-c", python_code] if python_code else ["-m", "replay"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def write_with_manifest(
    path: Path, members: Sequence[tuple[str, bytes]], manifest: dict[str, Any]
) -> Path:
    """A snapshot of ``members`` (``crafting.members_of``) around a hand-made manifest."""
    data = json.dumps(manifest).encode()  # ensure_ascii: a lone surrogate travels as \\ud800
    rest = [member(name, content) for name, content in members[1:]]
    path.write_bytes(compress(tar_bytes([member("manifest.json", data), *rest])))
    return path


def manifest_of(members: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """The manifest of ``members``, the first of which it must be."""
    name, data = members[0]
    assert name == "manifest.json"
    manifest: dict[str, Any] = json.loads(data)
    return manifest
