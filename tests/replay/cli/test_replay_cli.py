"""``python -m replay`` as a user runs it: a subprocess, another directory, pdb on stdin."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import replay
import snapshot


def assert_user_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """One or two ``Error:`` lines on stderr, the documented status, no traceback of ours."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in lines if line.startswith("Error: ")]) == 1
    for needle in needles:
        assert needle in result.stderr


# -- re-execution -----------------------------------------------------------------
def test_pdb_on_stdin_prints_the_failing_local(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    result = cli([str(recip_snapshot)], cwd=elsewhere, stdin="p x\nq\n")
    assert result.returncode == 1
    assert "(Pdb) 0\n" in result.stdout
    assert "Reproduced: ZeroDivisionError: division by zero" in result.stdout
    assert "recip-123" in result.stdout
    assert "ZeroDivisionError: division by zero" in result.stderr  # the replayed traceback


def test_no_debug_prints_the_traceback_and_exits_1(
    recip_snapshot: Path, elsewhere: Path, cli
) -> None:
    result = cli([str(recip_snapshot), "--no-debug"], cwd=elsewhere)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in recip" in result.stderr
    assert "replay/_" not in result.stderr  # the traceback starts in the user's code
    assert "Reproduced" in result.stdout


def test_pythonbreakpoint_0_means_no_debugger(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    result = cli([str(recip_snapshot)], cwd=elsewhere, env={"PYTHONBREAKPOINT": "0"})
    assert result.returncode == 1
    assert "(Pdb)" not in result.stdout
    assert "without a debugger" in result.stderr


def test_failure_that_does_not_reproduce_points_at_frames(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli, monkeypatch
) -> None:
    monkeypatch.setenv("REPLAY_TEST_SERVICE_DOWN", "1")  # only while capturing
    path = make_snapshot(tmp_path / "flaky.zst", job["call_service"], (7,), task_key="svc-1")

    replayed = cli([str(path), "--no-debug"], cwd=elsewhere)
    assert replayed.returncode == 0
    assert "Not reproduced: the call returned 7" in replayed.stdout
    assert "--frames" in replayed.stdout

    frames = cli([str(path), "--frames"], cwd=elsewhere, stdin="p x\nll\nq\n")
    assert frames.returncode == 0
    assert "(Pdb) 7\n" in frames.stdout
    # ll shows the captured source of a file that does not exist here.
    assert not pathlib.Path("/worker/home/job.py").exists()
    assert 'raise ConnectionError("service unavailable")' in frames.stdout
    assert "def call_service(x):" in frames.stdout


def test_frames_walks_up_and_down_the_captured_stack(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    path = make_snapshot(tmp_path / "nested.zst", job["outer"], ([1, 2, 3],))
    result = cli(
        [str(path), "--frames"],
        cwd=elsewhere,
        stdin="where\np mean\nup\np total, values\ndown\nll\nq\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "/worker/home/job.py(21)outer()" in out
    assert "-> return mean / (total - total)" in out
    assert "(Pdb) 2.0\n" in out
    assert "(Pdb) (6, [1, 2, 3])\n" in out
    assert "def inner(total, count):" in out


def test_frames_without_debugger_prints_locals(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    result = cli([str(recip_snapshot), "--frames", "--no-debug"], cwd=elsewhere)
    assert result.returncode == 0
    assert 'File "/worker/home/job.py", line 10, in recip' in result.stdout
    assert "return scale / x" in result.stdout
    assert "x = 0" in result.stdout


def test_pdb_hook_from_pythonbreakpoint(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    result = cli(
        [str(recip_snapshot)],
        cwd=elsewhere,
        stdin="p x\nq\n",
        env={"PYTHONBREAKPOINT": "pdb.set_trace"},
    )
    assert "(Pdb) 0\n" in result.stdout


def test_debugpy_prints_the_port_it_listens_on(recip_snapshot: Path, elsewhere: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replay",
            str(recip_snapshot),
            "--debugger",
            "debugpy",
            "--port",
            "0",
        ],
        cwd=elsewhere,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "listening" in line:
                break
        text = "".join(lines)
        assert "debugpy is listening on 127.0.0.1:" in text, text
        port = int(text.split("127.0.0.1:")[1].split(":")[0])
        assert port > 0
    finally:
        # The group holds only what this test started: replay and debugpy's adapter.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


# -- info and list ------------------------------------------------------------------
class _TouchOnUnpickle:
    """Unpickling this creates a file: proof of whether a command unpickled anything."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_info_never_unpickles(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    marker = tmp_path / "unpickled.marker"
    path = make_snapshot(
        tmp_path / "side-effect.zst",
        job["recip"],
        (0,),
        inputs={"payload": _TouchOnUnpickle(marker)},
    )
    for args in (["info", str(path)], ["info", str(path), "--json"], ["list", str(tmp_path)]):
        result = cli(args, cwd=elsewhere)
        assert result.returncode == 0, result.stderr
        assert not marker.exists(), args
    text = cli(["info", str(path)], cwd=elsewhere).stdout
    assert "pathlib" in text  # the opcodes name the module the payload would import

    # The test is sensitive: loading the inputs does unpickle the payload.
    replay.load(path).inputs  # noqa: B018
    assert marker.exists()


def test_info_text_and_json(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    text = cli(["info", str(recip_snapshot)], cwd=elsewhere)
    assert text.returncode == 0
    for needle in (
        "task:    recip-123",
        "ZeroDivisionError: division by zero",
        "/worker/home/job.py, line 10, in recip",
        "x = 0",
        "Traceback on the worker:",
        "Modules the pickles would import",
        "cloudpickle",
    ):
        assert needle in text.stdout, needle
    document = json.loads(cli(["info", str(recip_snapshot), "--json"], cwd=elsewhere).stdout)
    assert document["manifest"]["task"]["key"] == "recip-123"
    assert document["manifest"]["error"]["type"] == "ZeroDivisionError"
    assert any("cloudpickle" in m for mods in document["imports"].values() for m in mods)
    assert document["version_differences"] == []


def test_list_newest_first(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    directory = tmp_path / "snapshots"
    make_snapshot(directory / "a.zst", job["recip"], (0,), task_key="first")
    make_snapshot(directory / "b.zst", job["inner"], (1, 1), task_key="second")
    result = cli(["list", str(directory)], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "second" in lines[0] and "b.zst" in lines[0]
    assert "first" in lines[1] and "ZeroDivisionError: division by zero" in lines[1]
    assert result.stderr == ""


def test_list_tells_how_often_a_failure_happened_across_the_cluster(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    """``.storms.json`` (written by ``cluster_hook.fetch_snapshots``) is read as hostile."""
    directory = tmp_path / "snapshots"

    def storm(builder: snapshot.SnapshotBuilder) -> None:
        builder.manifest["task"] = {"key": "stormy", "fingerprint": "fp-1", "occurrence": 1}

    make_snapshot(directory / "a.zst", job["recip"], (0,), edit=storm)
    make_snapshot(directory / "b.zst", job["recip"], (0,), task_key="calm")
    counts = {
        "fp-1": {"failures": 48211, "written": 3, "workers": 1000},
        "fp-2": {"failures": -1, "written": 3, "workers": "x"},
        "fp-3": [1, 2, 3],
    }
    (directory / ".storms.json").write_text(json.dumps(counts))
    result = cli(["list", str(directory)], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    stormy, calm = sorted(result.stdout.splitlines(), key=lambda line: "calm" in line)
    assert "(3 written, 48,211 failures on 1,000 workers)" in stormy
    assert "written" not in calm
    # Damaged or hostile counts are left out; the listing is the same without them.
    for damaged in (b"[1, 2]", b"{" * 100_000, b"\xff\xfe", b"{}" + b" " * (2 << 20)):
        (directory / ".storms.json").write_bytes(damaged)
        again = cli(["list", str(directory)], cwd=elsewhere)
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
        assert "written" not in again.stdout


def test_list_shows_each_unreadable_file_with_its_reason_and_goes_on(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    directory = tmp_path / "snapshots"
    good = make_snapshot(directory / "b.zst", job["recip"], (0,), task_key="fine")
    (directory / "a-notes.txt").write_text("not a snapshot")
    (directory / "c-cut.zst").write_bytes(good.read_bytes()[:40])
    (directory / ".writing.tmp").write_bytes(b"a snapshot being written")
    result = cli(["list", str(directory)], cwd=elsewhere)
    assert result.returncode == 6, result.stderr
    first, *rest = result.stdout.splitlines()
    assert "fine" in first and "b.zst" in first
    assert len(rest) == 2
    assert "unreadable: not a snapshot" in rest[0] and rest[0].endswith("a-notes.txt")
    assert "unreadable: " in rest[1] and rest[1].endswith("c-cut.zst")
    assert "2 file(s)" in result.stderr and "Traceback" not in result.stderr


def test_a_file_named_info_is_replayed_as_dot_slash(
    recip_snapshot: Path, tmp_path: Path, cli
) -> None:
    directory = tmp_path / "odd"
    directory.mkdir()
    (directory / "info").write_bytes(recip_snapshot.read_bytes())
    result = cli(["./info", "--no-debug"], cwd=directory)
    assert result.returncode == 1
    assert "Reproduced" in result.stdout


def test_help_documents_exit_codes(elsewhere: Path, cli) -> None:
    result = cli(["--help"], cwd=elsewhere)
    assert result.returncode == 0
    assert "exit status:" in result.stdout
    assert "info SNAPSHOT" in result.stdout and "list DIR" in result.stdout


# -- user errors --------------------------------------------------------------------
def test_no_such_file(elsewhere: Path, cli) -> None:
    result = cli(["missing.zst"], cwd=elsewhere)
    assert_user_error(result, 3, "missing.zst", "no such file")


def test_not_a_snapshot(tmp_path: Path, elsewhere: Path, cli) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    for args in ([str(path)], ["info", str(path)]):
        assert_user_error(cli(args, cwd=elsewhere), 3, "not a snapshot")


def test_truncated_copy(recip_snapshot: Path, tmp_path: Path, elsewhere: Path, cli) -> None:
    data = recip_snapshot.read_bytes()
    path = tmp_path / "cut.zst"
    path.write_bytes(data[: len(data) // 2])
    assert_user_error(cli([str(path), "--no-debug"], cwd=elsewhere), 3, "cut.zst", "copy")


def test_newer_format(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    def newer(builder: snapshot.SnapshotBuilder) -> None:
        builder.manifest["format_version"] = "2.0"

    path = make_snapshot(tmp_path / "v2.zst", job["recip"], (0,), edit=newer)
    assert_user_error(cli([str(path)], cwd=elsewhere), 3, "2.0", "upgrade")


def test_bad_signature(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    path = make_snapshot(tmp_path / "signed.zst", job["recip"], (0,), key=b"right key")
    key_file = tmp_path / "key"
    key_file.write_text("wrong key\n")
    assert_user_error(cli([str(path), "--key-file", str(key_file)], cwd=elsewhere), 3, "signature")
    key_file.write_text("right key\n")
    ok = cli([str(path), "--key-file", str(key_file), "--no-debug"], cwd=elsewhere)
    assert ok.returncode == 1 and "Reproduced" in ok.stdout


def test_module_missing_on_this_machine(
    tmp_path: Path, elsewhere: Path, make_snapshot, cli, monkeypatch
) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "lab_only_module.py").write_text("def compute(x):\n    return 1 / x\n")
    monkeypatch.syspath_prepend(str(lab))
    import lab_only_module  # type: ignore[import-not-found]

    try:
        path = make_snapshot(tmp_path / "lab.zst", lab_only_module.compute, (0,))
    finally:
        sys.modules.pop("lab_only_module", None)
    result = cli([str(path)], cwd=elsewhere)
    assert_user_error(result, 4, "lab_only_module", "PYTHONPATH")
    # debugpy too: the call is unpickled before it listens for an IDE.
    result = cli([str(path), "--debugger", "debugpy"], cwd=elsewhere)
    assert_user_error(result, 4, "lab_only_module", "PYTHONPATH")
    assert "listening" not in result.stdout
    # info still works: it never unpickles, and warns the module is missing here.
    info = cli(["info", str(path)], cwd=elsewhere)
    assert info.returncode == 0
    assert "lab_only_module" in info.stdout
    # --frames still shows what it can.
    frames = cli([str(path), "--frames", "--no-debug"], cwd=elsewhere)
    assert frames.returncode == 0 and "x = 0" in frames.stdout


def test_unknown_debugger(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    result = cli([str(recip_snapshot), "--debugger", "gdb"], cwd=elsewhere)
    assert_user_error(result, 2, "gdb", "--help")


def test_debugger_not_installed(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    # sys.modules[name] = None is how Python spells "this module cannot be imported".
    code = (
        "import sys; sys.modules['pudb'] = None; from replay._cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    result = cli([str(recip_snapshot), "--debugger", "pudb"], cwd=elsewhere, python_code=code)
    assert_user_error(result, 5, "pudb", "pip install pudb")


def test_missing_arguments_and_conflicts(recip_snapshot: Path, elsewhere: Path, cli) -> None:
    assert_user_error(cli([], cwd=elsewhere), 2, "SNAPSHOT")
    assert_user_error(cli(["list"], cwd=elsewhere), 2, "DIR")
    assert_user_error(cli(["list", "nowhere"], cwd=elsewhere), 3, "nowhere")
    assert_user_error(
        cli([str(recip_snapshot), "--frames", "--debugger", "debugpy"], cwd=elsewhere),
        2,
        "--frames",
    )


def test_a_local_file_that_changed_since_the_capture_is_reported(
    tmp_path: Path, elsewhere: Path, compile_job, make_snapshot, cli
) -> None:
    local = tmp_path / "job_here.py"
    source = "def recip(x):\n    return 1 / x\n"
    local.write_text(source)
    recip = compile_job(source, str(local))["recip"]
    path = make_snapshot(tmp_path / "local.zst", recip, (0,))
    same = cli([str(path), "--frames", "--no-debug"], cwd=elsewhere)
    assert "differs" not in same.stderr

    local.write_text("def recip(x):\n    return 1 / (x + 1)\n")
    changed = cli([str(path), "--frames", "--no-debug"], cwd=elsewhere)
    assert changed.returncode == 0
    assert f"Warning: {local} differs from the source captured on the worker" in changed.stderr
    # --frames shows the captured line that raised, never this machine's changed one.
    assert "    return 1 / x\n" in changed.stdout
    assert "(x + 1)" not in changed.stdout


def test_a_full_screen_debugger_needs_a_terminal(
    recip_snapshot: Path, elsewhere: Path, cli
) -> None:
    result = cli([str(recip_snapshot), "--debugger", "pudb"], cwd=elsewhere, stdin="q\n")
    assert_user_error(result, 5, "pudb needs a terminal", "--debugger pdb")


def test_the_key_defaults_to_the_workers_environment_variable(
    tmp_path: Path, elsewhere: Path, job: dict[str, Any], make_snapshot, cli
) -> None:
    path = make_snapshot(tmp_path / "signed.zst", job["recip"], (0,), key=b"cluster key")
    key_file = tmp_path / "key"
    key_file.write_text("cluster key\n")
    env = {"DASK_SNAPSHOT__KEY_FILE": str(key_file)}
    info = cli(["info", str(path)], cwd=elsewhere, env=env)
    assert "signed:  yes (verified with the key given)" in info.stdout
    unsigned = make_snapshot(tmp_path / "unsigned.zst", job["recip"], (0,))
    assert_user_error(cli([str(unsigned)], cwd=elsewhere, env=env), 3, "not signed")
    allowed = cli([str(unsigned), "--no-debug", "--allow-unsigned"], cwd=elsewhere, env=env)
    assert allowed.returncode == 1 and "Reproduced" in allowed.stdout


def test_what_could_not_be_captured_is_reported_not_fatal(
    tmp_path: Path, elsewhere: Path, compile_job, make_snapshot, cli
) -> None:
    source = (
        "import threading\n\n\ndef locked(x):\n    guard = threading.Lock()\n    return 1 / x\n"
    )
    locked = compile_job(source, "/worker/home/locks.py")["locked"]
    path = make_snapshot(tmp_path / "lock.zst", locked, (0,))
    info = cli(["info", str(path)], cwd=elsewhere)
    assert info.returncode == 0
    assert "frames[0].guard: placeholder: a live resource (lock) is never captured" in info.stdout
    frames = cli([str(path), "--frames", "--no-debug"], cwd=elsewhere)
    assert "guard = <placeholder _thread.lock: a live resource (lock)" in frames.stdout
    assert "x = 0" in frames.stdout
    rerun = cli([str(path)], cwd=elsewhere, stdin="p x\nq\n")
    assert "(Pdb) 0\n" in rerun.stdout
