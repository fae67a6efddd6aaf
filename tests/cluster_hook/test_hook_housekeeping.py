"""The smaller promises: notes for hostile exceptions, no stale temporary
files, owner-only directories."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from distributed import Client
from distributed.utils_test import gen_cluster
from hook_helpers import snapshot_paths_in_notes
from hook_userfuncs import NoRepr, raise_hostile, recip

import snapshot
from cluster_hook import SnapshotPlugin
from snapshot._capture.directory import host_slug


async def _client_error(c: Client, kind: str, key: str) -> BaseException:
    try:
        await c.submit(raise_hostile, kind, 1, key=key)
    except Exception as exc:
        return exc
    raise AssertionError("the task did not fail")


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_exceptions_whose_str_or_repr_raise_still_get_their_note_and_event(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    controls = {kind: await _client_error(c, kind, f"control-{kind}") for kind in ("repr", "str")}
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    paths = []
    for kind, control in controls.items():
        hooked = await _client_error(c, kind, f"hooked-{kind}")
        # distributed itself calls str() and repr() to report a failure: the
        # client gets their RuntimeError, hook or no hook, and the task's
        # exception is its context.
        assert type(hooked) is type(control) and hooked.args == control.args
        own = hooked if isinstance(hooked, NoRepr) else hooked.__context__
        assert isinstance(own, NoRepr)
        (path,) = snapshot_paths_in_notes(own)
        assert snapshot.read_manifest(path)["error"]["type"] in {"NoRepr", "NoStr"}
        paths.append(path)
    events = [msg for _, msg in await c.get_events("snapshot")]
    assert [e["path"] for e in events] == paths
    assert events[1]["message"] == "<str() failed: RuntimeError>"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _partial(directory: Path, host: str, pid: int, age: float = 0.0) -> Path:
    target = f"20261202T010203-recip-abc-{host}-{pid}-0123abcd.tar.zst"
    path = directory / f".{target}.k2j4h5g.partial"
    path.write_bytes(b"half a snapshot")
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_stale_partial_files_of_dead_writers_are_removed_when_the_hook_starts(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    here = host_slug(socket.gethostname())
    dead = _partial(snapshot_dir, here, _dead_pid())
    live = _partial(snapshot_dir, here, os.getpid())  # this very process writes it
    elsewhere = _partial(snapshot_dir, "other-host", 4242)  # pid unknowable here
    forgotten = _partial(snapshot_dir, "other-host", 4343, age=2 * 24 * 3600)
    snapshot_file = snapshot_dir / f"20261202T010203-recip-{here}-1-00000000.tar.zst"
    snapshot_file.write_bytes(b"a finished snapshot")
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    assert not dead.exists() and not forgotten.exists()
    assert live.exists() and elsewhere.exists() and snapshot_file.exists()


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_every_directory_the_hook_creates_is_owner_only_even_under_umask_000(
    c: Client, s: Any, a: Any, tmp_path: Path
) -> None:
    directory = tmp_path / "new" / "nested" / "snapshots"
    old = os.umask(0)
    try:
        await c.register_plugin(SnapshotPlugin(directory=str(directory)))
        with pytest.raises(ZeroDivisionError) as info:
            await c.submit(recip, 0)
    finally:
        os.umask(old)
    (path,) = snapshot_paths_in_notes(info.value)
    created = [tmp_path / "new", tmp_path / "new" / "nested", directory]
    created += [p for p in directory.rglob("*") if p.is_dir()]  # .storm/<scope>/attempts
    assert len(created) >= 6
    for made in created:
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
