"""Never harm the host: the task's exception is the same, the worker keeps serving.

Real in-process clusters (``gen_cluster``, worker state validation on); the
hook is installed on the running cluster the way ``cluster_hook.register`` does.
"""

from __future__ import annotations

import logging
import socket
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dask._task_spec import Task
from distributed import Client, Future
from distributed.utils_test import gen_cluster, inc
from hook_helpers import limit_file_size, replay_in_fresh_process, snapshot_paths_in_notes
from hook_userfuncs import arecip, recip, recip_big, recip_with_lock, recip_with_unpicklable

import snapshot
from cluster_hook import SUFFIX, SnapshotPlugin
from cluster_hook._config import Settings
from cluster_hook._plugin import worker_capturer
from cluster_hook._wrapper import CapturingTask, wrap


async def _failure(future: Future) -> tuple[BaseException, list[tuple[str, str, int | None]]]:
    """The exception the client raises, and its traceback as (file, function, line)."""
    with pytest.raises(ZeroDivisionError) as info:
        await future
    tb = await future.traceback()
    frames = [(f.filename, f.name, f.lineno) for f in traceback.extract_tb(tb)]
    return info.value, frames


def _snapshots(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{SUFFIX}"))


def _warnings(*workers: Any) -> list[str]:
    return [
        r.getMessage()
        for w in workers
        for r in w.logs
        if r.levelno >= logging.WARNING and r.name.endswith("cluster_hook")
    ]


async def _still_serves(c: Client) -> None:
    assert await c.submit(inc, 41, key="inc-after-failure") == 42


@gen_cluster(client=True, nthreads=[("", 2)])
async def test_exception_and_traceback_are_those_of_a_run_without_the_hook(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    before, before_tb = await _failure(c.submit(recip, 0, key="recip-unhooked"))
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    after, after_tb = await _failure(c.submit(recip, 0, key="recip-hooked"))

    assert type(after) is type(before) and after.args == before.args
    assert after_tb == before_tb  # no frame of the hook shows
    assert not getattr(before, "__notes__", None)
    (path,) = snapshot_paths_in_notes(after)
    assert after.__notes__ == [f"dask-replay: snapshot written to {socket.gethostname()}:{path}"]
    assert [Path(path)] == _snapshots(snapshot_dir)
    events = [msg for _, msg in await c.get_events("snapshot")]
    assert [e["path"] for e in events] == [path]
    await _still_serves(c)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_unpicklable_local_still_writes_the_rest_and_warns(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    exc, _ = await _failure(c.submit(recip_with_unpicklable, 0))
    assert exc.args == ("division by zero",)
    (path,) = snapshot_paths_in_notes(exc)
    manifest = snapshot.read_manifest(path)
    frame = next(f for f in manifest["frames"] if f["function"] == "recip_with_unpicklable")
    assert manifest["pieces"][frame["locals"]["state"]]["status"] == "placeholder"
    assert manifest["pieces"][frame["locals"]["x"]]["status"] == "stored"
    assert manifest["capture"]["complete"] is False
    (warning,) = _warnings(a)
    assert "incomplete" in warning and "state" in warning
    await _still_serves(c)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_a_live_local_is_withheld_without_a_warning(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    """A lock is never captured, by design, and the replay does not need it:
    a placeholder that loses nothing (the snapshot is complete, no warning)."""
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
    exc, _ = await _failure(c.submit(recip_with_lock, 0))
    (path,) = snapshot_paths_in_notes(exc)
    manifest = snapshot.read_manifest(path)
    frame = next(f for f in manifest["frames"] if f["function"] == "recip_with_lock")
    lock = manifest["pieces"][frame["locals"]["lock"]]
    assert lock["status"] == "placeholder" and "a live resource (lock)" in lock["reason"]
    assert manifest["capture"]["complete"] is True
    assert _warnings(a) == []
    await _still_serves(c)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_unwritable_directory_changes_nothing_but_a_warning(
    c: Client, s: Any, a: Any, tmp_path: Path
) -> None:
    # Tests run as root, for whom chmod does not stop writes: a file stands
    # where the directory should be created.
    (tmp_path / "a-file").write_text("in the way")
    await c.register_plugin(SnapshotPlugin(directory=str(tmp_path / "a-file" / "snapshots")))
    exc, frames = await _failure(c.submit(recip, 0))
    assert exc.args == ("division by zero",)
    assert not getattr(exc, "__notes__", None)
    assert frames[-1][1] == "recip"
    (warning,) = _warnings(a)
    assert "recip" in warning and "a-file" in warning
    await _still_serves(c)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_directory_size_cap_stops_writing(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), max_directory_size=2000))
    first, _ = await _failure(c.submit(recip, 0, key="first"))
    second, _ = await _failure(c.submit(recip, 0, key="second"))
    # The first snapshot fits (its pieces shrink to the remaining budget and
    # are listed as left out); after it, the directory is full.
    assert len(snapshot_paths_in_notes(first)) == 1
    assert not getattr(second, "__notes__", None)
    assert second.args == ("division by zero",)
    assert len(_snapshots(snapshot_dir)) == 1
    assert any("max-directory-size" in w for w in _warnings(a))
    await _still_serves(c)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_object_size_cap_leaves_the_big_object_out(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), max_object_size="64 KiB"))
    payload = np.arange(100_000, dtype=np.float64)  # 800 kB, over the cap
    exc, _ = await _failure(c.submit(recip_big, 0, payload))
    (path,) = snapshot_paths_in_notes(exc)
    assert Path(path).stat().st_size < 200_000
    manifest = snapshot.read_manifest(path)
    frame = next(f for f in manifest["frames"] if f["function"] == "recip_big")
    big = manifest["pieces"][frame["locals"]["payload"]]
    assert big["status"] == "omitted" and "max-object-size" in big["reason"]
    assert manifest["pieces"][frame["locals"]["x"]]["status"] == "stored"
    assert any("incomplete" in w for w in _warnings(a))
    await _still_serves(c)


@pytest.mark.parametrize("kind", [KeyboardInterrupt, SystemExit])
def test_interpreter_exits_pass_through_untouched(kind: type, snapshot_dir: Path) -> None:
    raised = kind("stop")

    def stop() -> None:
        raise raised

    capturer = worker_capturer(
        Settings.from_config({"directory": str(snapshot_dir)}),
        worker_address="tcp://127.0.0.1:1",
        worker_name="w",
        log_event=lambda topic, msg: None,
    )
    wrapped = CapturingTask(Task("stop-key", stop), capturer)
    with pytest.raises(kind) as info:
        wrapped({})
    assert info.value is raised
    assert not getattr(raised, "__notes__", None)
    assert list(snapshot_dir.iterdir()) == []


def test_the_wrapper_answers_is_coro_like_the_task_it_wraps(snapshot_dir: Path) -> None:
    capturer = worker_capturer(
        Settings.from_config({"directory": str(snapshot_dir)}),
        worker_address="tcp://127.0.0.1:1",
        worker_name="w",
        log_event=lambda topic, msg: None,
    )
    for task in (Task("sync-key", recip, 1), Task("async-key", arecip, 1)):
        wrapped = wrap(task, capturer)
        assert wrapped.is_coro is task.is_coro
        assert wrapped.key == task.key  # other attributes are forwarded


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_bad_setting_turns_the_hook_off_with_an_error_not_the_worker(
    c: Client, s: Any, a: Any, snapshot_dir: Path
) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), max_total_size="lots"))
    exc, _ = await _failure(c.submit(recip, 0))
    assert not getattr(exc, "__notes__", None)
    assert list(snapshot_dir.iterdir()) == []
    (error,) = _warnings(a)
    assert "snapshot.max-total-size" in error and "'lots'" in error
    await _still_serves(c)


@gen_cluster(client=True, nthreads=[("", 1)])
async def test_disabled_hook_writes_nothing(c: Client, s: Any, a: Any, snapshot_dir: Path) -> None:
    await c.register_plugin(SnapshotPlugin(directory=str(snapshot_dir), enabled=False))
    exc, _ = await _failure(c.submit(recip, 0))
    assert not getattr(exc, "__notes__", None)
    assert list(snapshot_dir.iterdir()) == []


def test_replay_after_fault_cases_still_works(snapshot_dir: Path) -> None:
    """A snapshot with a placeholder still replays its call (the lock is not needed)."""
    capturer = worker_capturer(
        Settings.from_config({"directory": str(snapshot_dir)}),
        worker_address="tcp://127.0.0.1:1",
        worker_name="w",
        log_event=lambda topic, msg: None,
    )
    wrapped = CapturingTask(Task("lock-key", recip_with_lock, 0), capturer)
    with pytest.raises(ZeroDivisionError):
        wrapped({})
    (path,) = _snapshots(snapshot_dir)
    checked = replay_in_fresh_process([path])[str(path)]
    assert checked["raised"] == "ZeroDivisionError" and checked["x_zero"], checked


def test_full_disk_falls_back_to_a_manifest_only_snapshot(snapshot_dir: Path) -> None:
    from distributed import LocalCluster

    payload = np.random.default_rng(0).random(200_000)  # 1.6 MB, incompressible
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(SnapshotPlugin(directory=str(snapshot_dir)))
        client.run(limit_file_size, 256 * 1024)
        with pytest.raises(ZeroDivisionError) as info:
            client.submit(recip_big, 0, payload).result()
        logs = [
            msg
            for level, msg in next(iter(client.get_worker_logs().values()))
            if level == "WARNING" and "dask-replay" in msg
        ]
        assert client.submit(inc, 1).result() == 2

    assert info.value.args == ("division by zero",)
    (path,) = snapshot_paths_in_notes(info.value)
    manifest = snapshot.read_manifest(path)
    assert manifest["error"]["type"] == "ZeroDivisionError"
    assert manifest["capture"]["complete"] is False
    assert [p.name for p in _snapshots(snapshot_dir)] == [Path(path).name]
    assert Path(path).stat().st_size < 256 * 1024
    (warning,) = logs  # one clear warning
    assert "only the manifest" in warning and "File too large" in warning
