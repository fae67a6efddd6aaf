"""The Python API a notebook uses: ``replay.load(path)`` and the ``Replay`` it returns."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import replay
import snapshot


def test_exported_members_are_pinned_and_sorted() -> None:
    assert replay.__all__ == [
        "DEBUGGERS",
        "CapturedFrame",
        "CheckResult",
        "CheckVerdict",
        "DebuggerUnavailableError",
        "NotReplayableError",
        "Outcome",
        "Replay",
        "Verdict",
        "build_traceback",
        "check",
        "debug",
        "load",
        "post_mortem",
    ]
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, Classes, functions.
    assert replay.__all__ == sorted(
        replay.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )
    for name in replay.__all__:
        member = getattr(replay, name)
        if callable(member):
            assert member.__module__.startswith("replay."), name


def test_importing_replay_imports_no_dask() -> None:
    code = (
        "import sys, replay, replay._cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'cluster_hook', 'numpy', 'pandas')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_load_exposes_the_call_inputs_frames_and_manifest(recip_snapshot: Path) -> None:
    session = replay.load(recip_snapshot)
    assert session.manifest["task"]["key"] == "recip-123"
    assert session.func.__name__ == "recip"
    assert session.args == (0,)
    assert session.kwargs == {}
    assert session.inputs == {"dec-abc": 0}
    assert isinstance(session.exception, ZeroDivisionError)
    [frame] = session.frames
    assert (frame.filename, frame.function, frame.lineno) == ("/worker/home/job.py", "recip", 10)
    assert frame.locals == {"x": 0, "scale": 1}
    assert "recip" in repr(session)


def test_run_raises_what_the_worker_raised(recip_snapshot: Path) -> None:
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        replay.load(recip_snapshot).run()


def test_replay_judges_the_outcome(
    tmp_path: Path, job: dict[str, Any], make_snapshot, monkeypatch
) -> None:
    session = replay.load(make_snapshot(tmp_path / "a.zst", job["recip"], (0,)))
    outcome = session.replay()
    assert outcome.verdict is replay.Verdict.REPRODUCED
    assert isinstance(outcome.exception, ZeroDivisionError)
    # The traceback starts in the user's function, not in replay's own frames.
    assert outcome.exception.__traceback__ is not None
    assert outcome.exception.__traceback__.tb_frame.f_code.co_name == "recip"

    monkeypatch.setenv("REPLAY_TEST_SERVICE_DOWN", "1")
    flaky = make_snapshot(tmp_path / "b.zst", job["call_service"], (5,))
    monkeypatch.delenv("REPLAY_TEST_SERVICE_DOWN")
    outcome = replay.load(flaky).replay()
    assert outcome.verdict is replay.Verdict.NO_ERROR
    assert outcome.result == 5
    assert "--frames" in outcome.describe(replay.load(flaky).model.error)


def test_a_different_message_or_error_is_reported(recip_snapshot: Path) -> None:
    error = replay.load(recip_snapshot).model.error
    from replay._run.verdict import judge

    assert (
        judge(error, ZeroDivisionError("other"), None).verdict is replay.Verdict.DIFFERENT_MESSAGE
    )
    different = judge(error, KeyError("k"), None)
    assert different.verdict is replay.Verdict.DIFFERENT_ERROR
    assert "A different error: KeyError" in different.describe(error)


def test_debug_opens_pdb_at_the_raise(recip_snapshot: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("PYTHONBREAKPOINT", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("p x, scale\nq\n"))
    outcome = replay.load(recip_snapshot).debug("pdb")
    assert outcome.verdict is replay.Verdict.REPRODUCED
    assert "(Pdb) (0, 1)" in capsys.readouterr().out


def test_post_mortem_over_captured_frames(recip_snapshot: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("p x\nll\nq\n"))
    replay.load(recip_snapshot).post_mortem("pdb")
    out = capsys.readouterr().out
    assert "(Pdb) 0" in out
    assert "def recip(x):" in out and "return scale / x" in out


def test_a_call_without_its_arguments_is_not_replayable(
    tmp_path: Path, job: dict[str, Any], make_snapshot
) -> None:
    def drop_arguments(builder: snapshot.SnapshotBuilder) -> None:
        builder.manifest["call"]["args"] = [
            builder.omit(0, label="call.args[0]", reason="input capture is off")
        ]

    path = make_snapshot(tmp_path / "c.zst", job["recip"], (0,), edit=drop_arguments)
    session = replay.load(path)
    with pytest.raises(replay.NotReplayableError, match=r"argument 0 .*input capture is off"):
        session.run()
    assert session.frames[0].locals["x"] == 0  # the frames stay inspectable


def test_load_errors_are_snapshot_errors(tmp_path: Path) -> None:
    with pytest.raises(snapshot.SnapshotNotFoundError):
        replay.load(tmp_path / "nothing.zst")
    (tmp_path / "junk.zst").write_bytes(b"junk")
    with pytest.raises(snapshot.SnapshotFormatError):
        replay.load(tmp_path / "junk.zst")


ASYNC_SOURCE = """\
import asyncio


async def fetch(x):
    await asyncio.sleep(0)
    return 1 / x
"""


def test_an_async_task_is_awaited(tmp_path: Path, compile_job, monkeypatch, capsys) -> None:
    import asyncio

    fetch = compile_job(ASYNC_SOURCE, "/worker/home/fetch.py")["fetch"]
    builder = snapshot.SnapshotBuilder()
    try:
        asyncio.run(fetch(0))
    except ZeroDivisionError as exc:
        builder.capture_exception(exc)
    builder.set_call(fetch, (0,), {})
    builder.write(tmp_path / "async.zst")

    session = replay.load(tmp_path / "async.zst")
    outcome = session.replay()
    assert outcome.verdict is replay.Verdict.REPRODUCED
    tb = outcome.exception.__traceback__ if outcome.exception else None
    assert tb is not None and tb.tb_frame.f_code.co_name == "fetch"  # no asyncio frames first
    monkeypatch.setattr(sys, "stdin", io.StringIO("p x\nq\n"))
    session.debug("pdb")
    assert "(Pdb) 0" in capsys.readouterr().out


def test_debug_and_post_mortem_say_what_the_command_line_says(recip_snapshot: Path, capsys) -> None:
    session = replay.load(recip_snapshot)
    out, err = io.StringIO(), io.StringIO()
    outcome = session.debug(False, out=out, err=err)  # no debugger: the report only
    assert outcome.verdict is replay.Verdict.REPRODUCED
    assert "Re-running recip() with the captured arguments..." in out.getvalue()
    assert "Reproduced: ZeroDivisionError: division by zero" in out.getvalue()
    assert err.getvalue().startswith("Traceback (most recent call last):")
    frames = io.StringIO()
    session.post_mortem(False, out=frames, err=err)
    assert 'File "/worker/home/job.py", line 10, in recip' in frames.getvalue()
    assert "x = 0" in frames.getvalue()
    assert capsys.readouterr() == ("", "")  # nothing went anywhere else


def test_the_command_line_writes_to_the_streams_it_is_given(recip_snapshot: Path, capsys) -> None:
    from replay._cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["info", str(recip_snapshot)], out=out, err=err) == 0
    assert main(["list", str(recip_snapshot.parent)], out=out, err=err) == 0
    assert main(["missing.zst"], out=out, err=err) == 3
    assert "task:    recip-123" in out.getvalue() and "recip.zst" in out.getvalue()
    assert err.getvalue().startswith("Error: missing.zst: no such file")
    assert capsys.readouterr() == ("", "")


def test_result_is_what_a_finished_task_returned(recip_snapshot: Path) -> None:
    """``r.result`` of an on-demand capture (the golden 1.1 file); a failure's has none."""
    import numpy as np

    golden = Path(__file__).resolve().parents[1] / "snapshot" / "golden" / "1.1" / "on_demand.zst"
    r = replay.load(golden)
    func, args, kwargs = r.call
    np.testing.assert_array_equal(r.result, func(*args, **kwargs))
    with pytest.raises(snapshot.SnapshotFormatError, match="holds no result"):
        _ = replay.load(recip_snapshot).result
