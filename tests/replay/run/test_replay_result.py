"""Replaying a snapshot asked for of a task that finished (spec 4.13): its result compared,
and pdb stopped at the first line of the user's function (there is no raise to stop at).

The snapshots are written as ``cluster_hook.capture`` writes them (the call, the
``on_demand`` section, the result piece) by the snapshot writer in this
process; the functions are compiled under a file that does not exist here, so
they travel by value; the replays run the command line in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jobs import compile_job, run_cli

import replay
import snapshot

SOURCE = """\
def mean(values):
    total = sum(values)
    return total / len(values)
"""


def _write(path: Path, func: Callable[..., Any], args: Sequence[Any], result: Any) -> Path:
    builder = snapshot.SnapshotBuilder()
    builder.set_call(func, args, origin="task")
    builder.manifest["task"] = {"key": "mean-1"}
    builder.manifest["on_demand"] = {"trigger": "cluster_hook.capture", "state": "finished"}
    builder.add_result(result)
    return builder.write(path)


def test_pdb_stops_at_the_first_line_and_the_result_is_the_same(tmp_path: Path) -> None:
    path = _write(tmp_path / "mean.tar.zst", compile_job(SOURCE)["mean"], ([1, 2, 3],), 2.0)
    done = run_cli([str(path)], cwd=tmp_path, stdin="p values\nn\np total\nc\n")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Stepping into mean: pdb stops at the first line of your code" in out
    assert "(Pdb) [1, 2, 3]" in out  # stopped in mean(), before its first line ran
    assert "(Pdb) 6" in out  # after `n`: total was computed
    assert "Same result: the call returned 2.0, as on the cluster." in out
    assert "capture: on demand (cluster_hook.capture), of a task that had finished" in out


def test_ipdb_stops_at_the_first_line_too(tmp_path: Path) -> None:
    path = _write(tmp_path / "mean.tar.zst", compile_job(SOURCE)["mean"], ([5, 7],), 6.0)
    done = run_cli(
        ["--debugger", "ipdb", str(path)], cwd=tmp_path, stdin="p values\nn\np total\nc\n"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Stepping into mean: ipdb stops at the first line of your code" in done.stdout
    assert "[5, 7]" in done.stdout and "12" in done.stdout
    assert "Same result: the call returned 6.0, as on the cluster." in done.stdout


def test_pdb_steps_over_dask_s_own_frames_into_the_user_s_function(tmp_path: Path) -> None:
    from dask._task_spec import Task, TaskRef

    job = compile_job(SOURCE)
    task = Task("mean-1", job["mean"], TaskRef("values-1"))
    path = _write(tmp_path / "task.tar.zst", task, ({"values-1": [2, 4]},), 3.0)
    done = run_cli([str(path)], cwd=tmp_path, stdin="p values\nc\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Stepping into mean:" in done.stdout and "(Pdb) [2, 4]" in done.stdout
    assert "Same result: the call returned 3.0" in done.stdout


def test_pdb_stops_in_a_user_s_module_named_like_the_standard_library(tmp_path: Path) -> None:
    """The user's own ``colorsys.py`` is the user's code (its file says so), as ``info``
    and the page judge it: stepping in stops there."""
    own = tmp_path / "colorsys.py"
    own.write_text(SOURCE)
    namespace: dict[str, Any] = {"__name__": "colorsys"}
    exec(compile(SOURCE, str(own), "exec"), namespace)
    path = _write(tmp_path / "own.tar.zst", namespace["mean"], ([4, 8],), 6.0)
    done = run_cli([str(path)], cwd=tmp_path, stdin="p values\nc\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(Pdb) [4, 8]" in done.stdout
    assert "No line of your code ran" not in done.stdout


def test_quit_runs_the_call_to_its_end_and_still_compares(tmp_path: Path) -> None:
    path = _write(tmp_path / "mean.tar.zst", compile_job(SOURCE)["mean"], ([1, 2, 3],), 2.0)
    done = run_cli([str(path)], cwd=tmp_path, stdin="q\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "runs on to its end without the debugger" in done.stdout
    assert "Same result: the call returned 2.0" in done.stdout


def test_a_builtin_has_no_line_to_stop_at_and_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path / "sum.tar.zst", sum, ([1, 1],), 2)
    done = run_cli([str(path)], cwd=tmp_path, stdin="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No line of your code ran" in done.stdout
    assert "Same result: the call returned 2, as on the cluster." in done.stdout


def test_a_different_result_is_shown_with_its_difference_and_exits_1(tmp_path: Path) -> None:
    path = _write(tmp_path / "mean.tar.zst", compile_job(SOURCE)["mean"], ([1, 2, 3],), 2.5)
    done = run_cli(["--no-debug", str(path)], cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "A different result: 2.0, where the cluster returned 2.5" in done.stdout


def test_the_api_compares_and_a_raise_is_a_different_result(tmp_path: Path) -> None:
    job = compile_job(SOURCE)
    same = replay.load(_write(tmp_path / "a.tar.zst", job["mean"], ([4],), 4.0)).replay()
    assert same.verdict is replay.Verdict.SAME_RESULT and same.result == 4.0
    raised = replay.load(_write(tmp_path / "b.tar.zst", job["mean"], ([],), 1.0)).replay()
    assert raised.verdict is replay.Verdict.DIFFERENT_RESULT
    assert isinstance(raised.exception, ZeroDivisionError)
    assert "raised ZeroDivisionError: division by zero here" in raised.describe(None)


def test_check_says_same_or_differs_and_exits_accordingly(tmp_path: Path) -> None:
    job = compile_job(SOURCE)
    same = _write(tmp_path / "same.tar.zst", job["mean"], ([1, 2, 3],), 2.0)
    done = run_cli(["check", str(same)], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[1].startswith("same ")
    assert "returns 2.0, as on the cluster" in done.stdout
    assert "finished (captured on demand)" in done.stdout
    differs = _write(tmp_path / "differs.tar.zst", job["mean"], ([1, 2, 3],), 7.0)
    done = run_cli(["check", str(same), str(differs)], cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "returns 2.0, where the cluster returned 7.0" in done.stdout
    assert "2 snapshot(s): 1 same, 1 differs" in done.stdout


def test_pytest_replay_snapshots_passes_a_same_result_and_fails_a_different_one(
    tmp_path: Path,
) -> None:
    job = compile_job(SOURCE)
    folder = tmp_path / "snapshots"
    folder.mkdir()
    _write(folder / "same.tar.zst", job["mean"], ([1, 2, 3],), 2.0)
    _write(folder / "differs.tar.zst", job["mean"], ([1, 2, 3],), 7.0)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_TEST_")}
    environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugin = ["-p", "no:cacheprovider", "-p", "replay.pytest_plugin"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "--replay-snapshots", str(folder), "-v"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "same.tar.zst::mean-1 PASSED" in output and "differs.tar.zst::mean-1 FAILED" in output
    assert "differs: returns 2.0, where the cluster returned 7.0" in output


def test_list_says_finished_and_captured_on_demand(tmp_path: Path) -> None:
    folder = tmp_path / "snapshots"
    folder.mkdir()
    _write(folder / "mean.tar.zst", compile_job(SOURCE)["mean"], ([1, 2, 3],), 2.0)
    done = run_cli(["list", str(folder)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mean-1  finished (captured on demand)" in done.stdout


def test_a_result_over_the_size_cap_is_not_compared_and_says_why(tmp_path: Path) -> None:
    builder = snapshot.SnapshotBuilder(limits=snapshot.WriteLimits(max_piece_bytes=1000))
    builder.set_call(bytes, (5000,), origin="task")
    builder.manifest["on_demand"] = {"trigger": "cluster_hook.capture", "state": "finished"}
    builder.add_result(bytes(5000))
    path = builder.write(tmp_path / "big.tar.zst")
    done = run_cli(["--no-debug", str(path)], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the task's result was not stored (" in done.stdout
    assert ": nothing to compare." in done.stdout
    done = run_cli(["check", str(path)], cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "cannot run" in done.stdout and "result was not stored" in done.stdout
