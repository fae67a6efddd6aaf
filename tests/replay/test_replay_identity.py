"""Seen from the debugger: an object stored once is one object again.

An 8 MiB ``bytes`` argument held by the call and by two frames is written once
(the snapshot is under 9 MiB), and under ``--frames`` the two frames' locals
are the very same object (``is`` holds), as they were on the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs import compile_job, run_cli, write_snapshot

SOURCE = """\
def outer(payload):
    size = len(payload)
    return inner(payload, size)


def inner(data, size):
    return data[size] + 1
"""

EIGHT_MIB = 8 * 1024 * 1024


def _snapshot(tmp_path: Path) -> Path:
    job: dict[str, Any] = compile_job(SOURCE)
    payload = bytes(range(256)) * (EIGHT_MIB // 256)
    return write_snapshot(tmp_path / "shared.zst", job["outer"], (payload,))


def test_an_object_held_by_the_call_and_two_frames_is_written_once(tmp_path: Path) -> None:
    path = _snapshot(tmp_path)
    assert path.stat().st_size < 9 * 1024 * 1024


def test_two_frames_see_the_same_object_under_frames(tmp_path: Path) -> None:
    path = _snapshot(tmp_path)
    commands = "\n".join(
        [
            "p type(data).__name__, len(data)",
            "p __import__('builtins').__setattr__('_dask_replay_seen', data)",
            "up",
            "p 'same:', __import__('builtins')._dask_replay_seen is payload",
            "q",
        ]
    )
    done = run_cli([str(path), "--frames"], cwd=tmp_path, stdin=commands + "\n")
    assert "('bytes', 8388608)" in done.stdout, done.stdout + done.stderr
    assert "('same:', True)" in done.stdout, done.stdout + done.stderr
