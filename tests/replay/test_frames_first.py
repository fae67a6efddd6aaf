"""The captured frames take their names from the verified source, even on a fresh Replay.

``Replay.post_mortem()`` used to read the frames (a cached property) before
looking for their source, so the first call on a new ``Replay`` printed
``<dynamic-code>`` with no line, and only a second call showed the cell.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cloudpickle

import snapshot
from snapshot._amend import add_sources

CELL = "def recip(x):\n    return 1 / x\n"
CELL_FILE = "/tmp/ipykernel_4242/2913.py"


def test_the_first_post_mortem_on_a_client_copy_shows_the_cell(tmp_path: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(CELL, CELL_FILE, "exec"), namespace)
    worker_recip = cloudpickle.loads(cloudpickle.dumps(namespace["recip"]))  # <dynamic-code>
    builder = snapshot.SnapshotBuilder()
    try:
        worker_recip(0)  # type: ignore[operator]
    except ZeroDivisionError as exc:
        builder.capture_exception(exc, skip_frames=1)
    builder.set_call(worker_recip, (0,))
    written = builder.write(tmp_path / "written.tar.zst")
    copy = tmp_path / "copy.tar.zst"
    assert add_sources(written, copy, {CELL_FILE: CELL}) == [CELL_FILE]

    script = "import sys, replay\nreplay.load(sys.argv[1]).post_mortem(False)\n"
    result = subprocess.run(
        [sys.executable, "-c", script, str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f'File "{CELL_FILE}", line 2, in recip' in result.stdout, result.stdout
    assert "    return 1 / x" in result.stdout, result.stdout
    assert "x = 0" in result.stdout


def test_info_on_a_client_copy_names_the_sources_its_client_added(tmp_path: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(CELL, CELL_FILE, "exec"), namespace)
    worker_recip = cloudpickle.loads(cloudpickle.dumps(namespace["recip"]))
    builder = snapshot.SnapshotBuilder()
    try:
        worker_recip(0)  # type: ignore[operator]
    except ZeroDivisionError as exc:
        builder.capture_exception(exc, skip_frames=1)
    builder.set_call(worker_recip, (0,))
    written = builder.write(tmp_path / "written.tar.zst")
    copy = tmp_path / "copy.tar.zst"
    add_sources(written, copy, {CELL_FILE + "\x1b[31m": CELL})
    result = subprocess.run(
        [sys.executable, "-m", "replay", "info", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "(no source captured on the worker; see the client's, below)" in result.stdout
    assert "Sources added by dask-replay client" in result.stdout, result.stdout
    assert f"  {CELL_FILE}\\x1b[31m" in result.stdout  # escaped for the terminal
    assert snapshot.read_model(copy).amended.sources == (CELL_FILE + "\x1b[31m",)
