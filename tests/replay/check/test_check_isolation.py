"""``check``'s child processes: a hang, ``os._exit``, a death under its memory limit, hostile
and unsigned files; none takes the checker down, each gets its verdict."""

from __future__ import annotations

import json
from pathlib import Path

from jobs import compile_job, run_cli, write_snapshot

import snapshot

HOSTILE = """\
import os
import time


def hang(x):
    if x == 0:
        raise TimeoutError("slow")
    return x


def leave(x):
    if x == 0:
        raise RuntimeError("bad")
    return x


def grow(size):
    blob = bytearray(size)
    return len(blob)
"""


def _rows(stdout: str) -> dict[str, str]:
    return {r["path"]: r["verdict"] for r in json.loads(stdout)["results"]}


def test_a_hang_and_an_exit_are_changed_and_the_checker_goes_on(tmp_path: Path) -> None:
    # Captured raising; their "current" definitions (--source) hang and end the process.
    raising = compile_job(HOSTILE, filename="/worker/home/hostile.py")
    hang = write_snapshot(tmp_path / "hang.zst", raising["hang"], (0,), task_key="hang-1")
    leave = write_snapshot(tmp_path / "leave.zst", raising["leave"], (0,), task_key="leave-1")
    fixed_hang = tmp_path / "hang_now.py"
    fixed_hang.write_text(
        "import time\n\n\ndef hang(x):\n    time.sleep(3600)\n\n\n"
        "def leave(x):\n    import os\n    os._exit(3)\n"
    )
    command = ["check", str(hang), str(leave), "--timeout", "5", "-j", "2", "--json"]
    result = run_cli([*command, "--source", str(fixed_hang)], cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    results = {r["task"]: r for r in json.loads(result.stdout)["results"]}
    assert results["hang-1"]["verdict"] == "changed"
    assert "did not finish within --timeout 5 s; killed" in results["hang-1"]["reason"]
    assert results["leave-1"]["verdict"] == "changed"
    assert "exit status 3" in results["leave-1"]["reason"]


def test_a_death_is_checked_under_its_recorded_memory_limit(tmp_path: Path) -> None:
    job = compile_job(HOSTILE, filename="/worker/home/hostile.py")
    # As the hook writes a memory death: the call, no exception of its own, a death section.
    builder = snapshot.SnapshotBuilder()
    builder.set_call(job["grow"], (2**30,), {})
    builder.add_inputs({})
    builder.manifest["task"] = {"key": "grow-1"}
    builder.manifest["death"] = {"cause": "memory", "memory_limit": 500 * 2**20}
    snap = tmp_path / "death.zst"
    builder.write(snap)
    under = run_cli(["check", str(snap)], cwd=tmp_path)
    assert under.returncode == 1, under.stdout + under.stderr
    assert under.stdout.splitlines()[1].startswith("fails "), under.stdout
    assert "worker died: out of memory" in under.stdout
    assert "dies again: MemoryError" in under.stdout
    # Without the limit, 1 GiB fits on this machine: the call completes.
    lifted = run_cli(["check", str(snap), "--memory-limit", "none"], cwd=tmp_path)
    assert lifted.returncode == 0, lifted.stdout + lifted.stderr
    assert "the call completes under the worker's conditions" in lifted.stdout


def test_a_hostile_or_unsigned_file_is_refused_as_the_replay_refuses_it(tmp_path: Path) -> None:
    job = compile_job()
    unsigned = write_snapshot(tmp_path / "unsigned.zst", job["recip"], (0,))
    write_snapshot(tmp_path / "signed.zst", job["recip"], (0,), key=b"secret")
    forged = tmp_path / "forged.zst"
    forged.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 64)
    env = {"DASK_SNAPSHOT__KEY": "secret"}
    result = run_cli(["check", str(tmp_path), "--json"], cwd=tmp_path, env=env)
    rows = {Path(r["path"]).name: r for r in json.loads(result.stdout)["results"]}
    assert rows["signed.zst"]["verdict"] == "fails"
    assert rows["unsigned.zst"]["verdict"] == "cannot run"
    assert "not signed, but a key was given" in rows["unsigned.zst"]["reason"]
    assert rows["forged.zst"]["verdict"] == "cannot run"
    assert rows["forged.zst"]["reason"].startswith("refused: ")
    assert result.returncode == 1  # signed.zst still fails
    replay = run_cli([str(unsigned), "--no-debug"], cwd=tmp_path, env=env)
    assert replay.returncode == 3
    assert "not signed, but a key was given" in replay.stderr
    alone = run_cli(["check", str(unsigned), str(forged)], cwd=tmp_path, env=env)
    assert alone.returncode == 4, alone.stdout + alone.stderr
    assert "Traceback" not in alone.stdout + alone.stderr


def test_a_missing_path_is_an_error_and_no_snapshot_runs(tmp_path: Path) -> None:
    result = run_cli(["check", str(tmp_path / "nowhere")], cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.startswith("Error: ") and "no such file or directory" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(["check", str(empty)], cwd=tmp_path)
    assert result.returncode == 3 and "no snapshots" in result.stderr
    result = run_cli(["check", str(empty), "-j", "0"], cwd=tmp_path)
    assert result.returncode == 2


def test_the_python_api_checks_as_the_command_does(tmp_path: Path) -> None:
    import replay

    job = compile_job()
    snap = write_snapshot(tmp_path / "recip.zst", job["recip"], (0,))
    (result,) = replay.check(snap)
    assert result.verdict is replay.CheckVerdict.FAILS
    assert result.captured == "ZeroDivisionError in recip"
    assert "ZeroDivisionError: division by zero" in (result.traceback or "")
    assert "replay/_check" not in (result.traceback or "")
    loaded = replay.load(snap).check(sources=[_write(tmp_path / "fixed.py")])
    assert loaded.verdict is replay.CheckVerdict.FIXED, loaded
    assert loaded.reason == "returns 0"


def _write(path: Path) -> str:
    path.write_text("def recip(x):\n    return 0\n")
    return str(path)


def test_a_notebook_and_a_file_url_are_accepted(tmp_path: Path) -> None:
    import nbformat

    job = compile_job()
    snap = write_snapshot(tmp_path / "recip.zst", job["recip"], (0,))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("def recip(x):\n    return 1 / x"),
        nbformat.v4.new_code_cell(
            "import math\n\n\ndef recip(x):\n    return math.inf if x == 0 else 1 / x"
        ),
    ]
    nbformat.write(notebook, str(tmp_path / "analysis.ipynb"))
    command = ["check", snap.as_uri(), "--source", str(tmp_path / "analysis.ipynb")]
    result = run_cli(command, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/analysis.ipynb, cell 2, line 4 (--source)" in result.stdout
    assert "returns inf" in result.stdout
