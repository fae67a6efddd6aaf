"""A fuzz target for each consumer of the manifest: ``info``, ``info --json``, ``list``,
replay's summary, ``--frames --no-debug`` and the ``Replay`` properties.

Manifests of a genuine snapshot with fields replaced, added or removed, in type
and in value (``strategies.mutated_manifests``: surrogates, controls, huge
integers, deep nesting), written back around the genuine pickles.  The only
outcomes allowed: normal output, a ``SnapshotError`` subclass (from the API),
or its exit status (from the CLI); never another exception, and never a
character a terminal would act on.  The bulk runs ``main(argv)`` in-process; a
sample runs the real CLI in a subprocess.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import hypothesis
import pytest
from crafting import members_of
from hypothesis import strategies as st
from jobs import compile_job, manifest_of, write_snapshot, write_with_manifest
from strategies import mutated_manifests
from terminal_checks import unsafe_bytes, unsafe_characters

import replay
import snapshot
from replay._cli import main

# Exit statuses a command may end with on a damaged file: 0 (printed), 1 (the
# re-run raised), 3 (unreadable), 4 (not re-runnable here), 6 (list: some unreadable).
ALLOWED = {"info": {0, 3}, "list": {0, 6}, "replay": {0, 1, 3, 4}, "frames": {0, 3, 4}}


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    """A snapshot with a call, inputs with a tuple key, two frames with locals, a source."""
    job = compile_job()
    path = tmp_path_factory.mktemp("genuine") / "genuine.tar.zst"
    write_snapshot(path, job["outer"], ([1, 2, 3],), inputs={("dec", 1): 6, "raw": b"\x1b"})
    return members_of(path)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def mutated_file(
    workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject, name: str
) -> Path:
    manifest = data.draw(mutated_manifests(copy.deepcopy(manifest_of(genuine))))
    directory = workdir / name
    directory.mkdir(exist_ok=True)
    try:
        return write_with_manifest(directory / "mutated.tar.zst", genuine, manifest)
    except ValueError:  # json.dumps of an integer over sys.get_int_max_str_digits()
        hypothesis.reject()


def run(args: list[str]) -> tuple[int, str, str]:
    """``main(args)`` in-process, commands for a debugger on stdin."""
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("q\n")
    try:
        status = main(args, out=out, err=err)
    finally:
        sys.stdin = stdin
    assert unsafe_characters(out.getvalue()) == [], out.getvalue()
    assert unsafe_characters(err.getvalue()) == [], err.getvalue()
    if status in (3, 4):
        assert err.getvalue().startswith("Error: ") or "\nError: " in err.getvalue()
    return status, out.getvalue(), err.getvalue()


@hypothesis.given(data=st.data())
def test_info(workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject) -> None:
    path = mutated_file(workdir, genuine, data, "info")
    status, out, err = run(["info", str(path)])
    assert status in ALLOWED["info"], err
    if status == 0:
        assert out.startswith("Snapshot: ")


@hypothesis.given(data=st.data())
def test_info_json(workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject) -> None:
    path = mutated_file(workdir, genuine, data, "json")
    status, out, err = run(["info", "--json", str(path)])
    assert status in ALLOWED["info"], err
    if status == 0:
        out.encode("ascii")  # ensure_ascii: every character escaped
        assert isinstance(json.loads(out)["manifest"], dict)


@hypothesis.given(data=st.data())
def test_list(workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject) -> None:
    path = mutated_file(workdir, genuine, data, "list")
    status, out, err = run(["list", str(path.parent)])
    assert status in ALLOWED["list"], err
    assert len(out.splitlines()) == 1  # listed, or listed as unreadable


@hypothesis.given(data=st.data())
def test_replay_summary(
    workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    path = mutated_file(workdir, genuine, data, "replay")
    status, out, err = run([str(path), "--no-debug"])
    assert status in ALLOWED["replay"], err
    if status in (0, 1):
        assert out.startswith("Snapshot: ")


@hypothesis.given(data=st.data())
def test_frames_no_debug(
    workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    path = mutated_file(workdir, genuine, data, "frames")
    status, _, err = run([str(path), "--frames", "--no-debug"])
    assert status in ALLOWED["frames"], err


@hypothesis.given(data=st.data())
def test_replay_properties(
    workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    path = mutated_file(workdir, genuine, data, "api")
    try:
        session = replay.load(path)
    except snapshot.SnapshotError:
        return
    repr(session)
    session.version_differences()
    for name in ("call", "inputs", "exception", "frames", "sources"):
        try:
            getattr(session, name)
        except snapshot.SnapshotError:
            pass
    try:
        session.traceback()
        session.frames_exception()
    except snapshot.SnapshotError:
        pass


@hypothesis.settings(max_examples=4)
@hypothesis.given(data=st.data())
def test_the_real_cli_on_a_sample(
    workdir: Path, genuine: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    path = mutated_file(workdir, genuine, data, "subprocess")
    for args, allowed in (
        (["info", str(path)], ALLOWED["info"]),
        (["list", str(path.parent)], ALLOWED["list"]),
        ([str(path), "--frames", "--no-debug"], ALLOWED["frames"]),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "replay", *args], capture_output=True, timeout=120
        )
        assert result.returncode in allowed, result.stderr
        assert b"Traceback" not in result.stderr, result.stderr
        assert unsafe_bytes(result.stdout) == [] and unsafe_bytes(result.stderr) == []
