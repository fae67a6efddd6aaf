"""Replaying a worker's death (a manifest with a ``death`` section), without a cluster.

The snapshots are written here with the worker's writer, as the cluster hook
writes them: the call, no exception, no frames, the ``death`` section.  The
cluster itself is exercised by tests/end_to_end/test_worker_deaths.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jobs import compile_job, run_cli

import snapshot
from replay._run.conditions import parse_memory_limit

DEATH_JOB = """\
import os


def hog(step):
    chunks = []
    while True:
        size = step * (len(chunks) + 1)
        chunks.append(b"x" * size)


def fine(n):
    return n + 1


def leave(status):
    os._exit(status)
"""


def write_death(path: Path, func: Any, args: tuple[Any, ...], **death: Any) -> Path:
    builder = snapshot.SnapshotBuilder()
    builder.set_call(func, args, origin="run_spec")
    builder.add_inputs({})
    section = {
        "cause": "memory",
        "summary": "worker tcp://10.0.0.5:4000 died while running this task: out of memory",
        "worker": "tcp://10.0.0.5:4000",
        "host": "node1",
        "pid": 4242,
        "memory_limit": 300_000_000,
        "memory": {"process": 250_000_000},
        "rss_at_kill": 290_000_000,
        "exit_code": -15,
        "signal": 15,
        "signal_name": "SIGTERM",
        "suspicious": 1,
        "allowed_failures": 0,
        "killed_worker": True,
        "stacks": 'Current thread 0x1 (most recent call first):\n  File "job.py", line 7 in hog\n',
        "stacks_reason": None,
        "lost_inputs": [],
    }
    section.update(death)
    builder.manifest["death"] = section
    builder.manifest["task"] = {"key": "hog-1"}
    builder.manifest["error"] = {
        "type": "KilledWorker",
        "module": "distributed.scheduler",
        "message": section["summary"],
        "notes": [],
        "traceback": section["stacks"] or "",
        "chain": [],
    }
    builder.write(path)
    return path


@pytest.fixture
def death_job() -> dict[str, Any]:
    return compile_job(DEATH_JOB, "/worker/home/death_job.py")


def test_memory_limit_sizes() -> None:
    assert parse_memory_limit("300MB") == 300_000_000
    assert parse_memory_limit("1.5 GiB") == 3 * 2**29
    assert parse_memory_limit("314572800") == 314572800
    assert parse_memory_limit("none") is None
    with pytest.raises(ValueError, match="expected a size"):
        parse_memory_limit("lots")


def test_out_of_memory_death_raises_memory_error_at_the_allocation(
    tmp_path: Path, death_job: dict[str, Any]
) -> None:
    path = write_death(tmp_path / "hog.zst", death_job["hog"], (64 * 2**20,))
    result = run_cli([str(path)], cwd=tmp_path, stdin="p size > 0\np len(chunks) > 0\nq\n")
    assert result.returncode == 1, result.stderr
    assert "The worker died running this task:" in result.stdout
    assert "RSS when the nanny killed it 276.6 MiB" in result.stdout
    assert 'File "job.py", line 7 in hog' in result.stdout  # the stacks at death
    assert "Re-running under the worker's memory limit: 286.1 MiB" in result.stdout
    assert "MemoryError" in result.stderr
    assert "Reproduced: the call ran out of memory under the worker's limit" in result.stdout
    assert result.stdout.count("(Pdb) True") == 2  # in hog's frame, the limit lifted


def test_death_that_does_not_reproduce_says_so(tmp_path: Path, death_job: dict[str, Any]) -> None:
    path = write_death(tmp_path / "fine.zst", death_job["fine"], (1,))
    result = run_cli([str(path), "--no-debug", "--memory-limit", "none"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Re-running under" not in result.stdout
    assert "Not reproduced: the call returned 2 here, where the worker died (out of memory)" in (
        result.stdout
    )


def test_os_exit_raises_at_its_caller(tmp_path: Path, death_job: dict[str, Any]) -> None:
    path = write_death(
        tmp_path / "leave.zst",
        death_job["leave"],
        (3,),
        cause="exit",
        exit_code=3,
        signal=None,
        signal_name=None,
        stacks=None,
        stacks_reason="no nanny reported the exit",
    )
    result = run_cli([str(path), "--no-debug"], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "no Python stacks: no nanny reported the exit" in result.stdout
    assert "ProcessExit: os._exit(3) called" in result.stderr
    assert "Reproduced: the call called os._exit(3), as on the worker." in result.stdout


def test_lost_inputs_are_named_and_stop_the_replay(
    tmp_path: Path, death_job: dict[str, Any]
) -> None:
    lost = [{"key": "load-7", "reason": "held only by the dead worker tcp://10.0.0.5:4000"}]
    path = write_death(tmp_path / "lost.zst", death_job["fine"], (1,), lost_inputs=lost)
    result = run_cli([str(path), "--no-debug"], cwd=tmp_path)
    assert result.returncode == 4, result.stderr
    assert "input 'load-7' lost: held only by the dead worker" in result.stdout
    assert (
        "input(s) 'load-7' were held only by the worker that died and could not be recomputed"
        in result.stderr
    )


def test_info_and_list_show_the_death_escaped(tmp_path: Path, death_job: dict[str, Any]) -> None:
    path = write_death(
        tmp_path / "d" / "segv.zst",
        death_job["fine"],
        (1,),
        cause="signal",
        signal=11,
        signal_name="SIGSEGV\x1b[2J",
        summary="worker died \x1b]0;owned\x07 badly",
    )
    info = run_cli(["info", str(path)], cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "The worker died running this task:" in info.stdout
    assert "\x1b" not in info.stdout and "\\x1b" in info.stdout
    listing = run_cli(["list", str(path.parent)], cwd=tmp_path)
    assert "KilledWorker (SIGSEGV\\x1b[2J)" in listing.stdout
    assert "\x1b" not in listing.stdout


def test_bad_memory_limit_is_a_usage_error(tmp_path: Path, death_job: dict[str, Any]) -> None:
    path = write_death(tmp_path / "fine.zst", death_job["fine"], (1,))
    result = run_cli([str(path), "--memory-limit", "lots"], cwd=tmp_path)
    assert result.returncode == 2
    assert "--memory-limit 'lots': expected a size" in result.stderr


def test_the_api_re_runs_a_death_under_its_conditions_too(
    tmp_path: Path, death_job: dict[str, Any]
) -> None:
    """``Replay.run()`` and ``Replay.replay()`` apply the worker's memory limit, as the CLI does.

    In a fresh process: a memory limit in the test runner's own process would
    starve it.
    """
    hog = write_death(tmp_path / "hog.zst", death_job["hog"], (64 * 2**20,))
    leave = write_death(
        tmp_path / "leave.zst", death_job["leave"], (3,), cause="exit", exit_code=3, signal=None
    )
    script = (
        "import resource, sys, replay\n"
        "before = resource.getrlimit(resource.RLIMIT_DATA)\n"
        "r = replay.load(sys.argv[1])\n"
        "try:\n"
        "    r.run()\n"
        "except MemoryError:\n"
        "    print('run: MemoryError')\n"
        "print('replay:', r.replay().verdict.name)\n"
        "print('restored:', resource.getrlimit(resource.RLIMIT_DATA) == before)\n"
        "exit_verdict = replay.load(sys.argv[2]).replay()\n"
        "print('exit:', type(exit_verdict.exception).__name__, exit_verdict.verdict.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(hog), str(leave)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "run: MemoryError",
        "replay: REPRODUCED",
        "restored: True",
        "exit: ProcessExit REPRODUCED",
    ], result.stdout + result.stderr
