"""How the death watch is installed, and how a death is told from what the scheduler knows.

The deaths themselves (real worker processes killed by their tasks) are in
tests/end_to_end/test_worker_deaths.py.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import time
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster, Scheduler

import cluster_hook
import snapshot
from cluster_hook._deaths.cause import describe_death


def _record(**changes: Any) -> dict[str, Any]:
    record = {
        "dead": {"worker": "tcp://10.0.0.5:4000", "host": "10.0.0.5", "memory_limit": 2**30},
        "suspicious": 2,
        "allowed_failures": 3,
        "killed_worker": False,
        "executing": True,
        "time": 0.0,
        "stimulus_id": "handle-worker-cleanup-1",
    }
    record.update(changes)
    return record


def test_scheduler_preload_installs_the_death_watch() -> None:
    async def plugins() -> list[str]:
        async with Scheduler(port=0, dashboard_address=":0", preload=["cluster_hook"]) as s:
            return sorted(s.plugins)

    assert "dask-replay-deaths" in asyncio.run(plugins())


def test_register_installs_it_and_leaves_an_in_process_worker_alone(tmp_path: Path) -> None:
    enabled, exit_function = faulthandler.is_enabled(), os._exit
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        cluster_hook.register(client, directory=str(tmp_path))
        assert "dask-replay-deaths" in cluster.scheduler.plugins
        # Its worker shares this process and has no nanny to read its stacks.
        assert os._exit is exit_function
        assert faulthandler.is_enabled() == enabled
    assert not (tmp_path / ".faulthandler").exists()


def leave(x: int) -> int:
    os._exit(x)


def test_a_local_cluster_with_the_preload_records_a_death(tmp_path: Path) -> None:
    """The notebook's way: LocalCluster(processes=True), the hook by config."""
    config = {
        "distributed.worker.preload": ["cluster_hook"],
        "distributed.scheduler.allowed-failures": 0,
        "snapshot.directory": str(tmp_path),
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        with pytest.raises(Exception, match="Attempted to run task 'leave-1' on 1 different"):
            client.submit(leave, 3, key="leave-1").result()
        events: list[Any] = []
        for _ in range(150):
            events = [e for _, e in client.get_events("snapshot") if e["key"] == "leave-1"]
            if events:
                break
            time.sleep(0.2)
    [event] = events
    death = snapshot.read_manifest(event["path"])["death"]
    assert (death["cause"], death["exit_code"]) == ("exit", 3)
    assert " in leave" in death["stacks"]
    replayed = snapshot.open_snapshot(event["path"])
    func, args, _ = replayed.call()
    assert func.func.__name__ == "leave" and list(args) == [{}]  # run_spec(inputs): no inputs


def test_a_memory_kill_names_the_rss_and_the_limit() -> None:
    death = describe_death(
        _record(),
        {"exitcode": -15, "stacks": "Current thread ...", "host": "node1"},
        {"worker": "tcp://10.0.0.5:4000", "rss": 1_030_000_000},
    )
    assert death["cause"] == "memory"
    assert death["host"] == "node1"
    assert death["signal_name"] == "SIGTERM"
    assert death["stacks_reason"] is None
    assert "RSS 982 MiB of its 1024 MiB limit, 96%" in death["summary"]
    assert "2 worker death(s) with this task so far, allowed-failures 3" in death["summary"]
    assert death["summary"].endswith("the scheduler retries the task")


def test_sigkill_leaves_no_stack_and_says_so() -> None:
    death = describe_death(_record(killed_worker=True), {"exitcode": -9, "stacks": None}, None)
    assert (death["cause"], death["signal_name"]) == ("signal", "SIGKILL")
    assert death["stacks"] is None
    assert death["stacks_reason"].startswith("SIGKILL cannot be caught")
    assert death["summary"].endswith("the client got KilledWorker")


def test_without_a_nanny_the_cause_is_unknown() -> None:
    death = describe_death(_record(), None, None)
    assert death["cause"] == "unknown"
    assert death["exit_code"] is None
    assert "no nanny reported" in death["stacks_reason"]


def test_a_death_snapshot_is_uploaded_like_any_other(tmp_path: Path) -> None:
    from cluster_hook._config import Settings
    from cluster_hook._deaths.writer import _upload

    written = tmp_path / "20261202T000000-hog-1-node1-1-abcd.tar.zst"
    written.write_bytes(b"snapshot bytes")
    settings = Settings.from_config({"upload": f"file://{tmp_path / 'bucket'}"})
    url = _upload(settings, written)
    assert url == f"file://{tmp_path / 'bucket'}/{written.name}"
    assert (tmp_path / "bucket" / written.name).read_bytes() == b"snapshot bytes"


def test_a_worker_without_a_nanny_is_said_to_have_had_none() -> None:
    from cluster_hook._deaths.report import NO_NANNY

    death = describe_death(_record(), None, None, NO_NANNY)
    assert death["cause"] == "unknown"
    assert "the worker had no nanny" in death["summary"]
    assert death["stacks_reason"] == NO_NANNY


def test_the_report_of_a_worker_its_nanny_knew_under_a_stale_address_is_found() -> None:
    """A worker that dies before its nanny heard its address is reported under its
    predecessor's (the nanny reuses its WorkerProcess): matched by nanny and time."""
    from cluster_hook._deaths.report import how_it_died
    from cluster_hook._names import EXIT_TOPIC

    async def main() -> dict[str, Any]:
        async with Scheduler(port=0, dashboard_address=":0") as s:
            old = {"worker": "tcp://10.0.0.5:1", "nanny": "tcp://10.0.0.5:9", "exitcode": 1}
            s.log_event(EXIT_TOPIC, old)  # the predecessor's own death
            await asyncio.sleep(0.05)
            registered = time.time()
            record = _record(
                dead={
                    "worker": "tcp://10.0.0.5:2",
                    "nanny": "tcp://10.0.0.5:9",
                    "host": "10.0.0.5",
                    "memory_limit": 2**30,
                },
                registered=registered,
            )
            arrivals: dict[str, asyncio.Event] = {}
            waiting = asyncio.ensure_future(how_it_died(s, record, arrivals))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # the predecessor's report is not this one's
            s.log_event(EXIT_TOPIC, {**old, "exitcode": -11})  # the stale address again
            arrivals[record["dead"]["worker"]].set()
            return await asyncio.wait_for(waiting, 10)

    death = asyncio.run(main())
    assert (death["cause"], death["signal_name"]) == ("signal", "SIGSEGV")
