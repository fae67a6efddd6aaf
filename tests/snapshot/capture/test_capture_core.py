"""The capture core works without Dask: a plain function's failure, captured and read back.

Each test runs a fresh interpreter in which ``dask`` and ``distributed`` cannot
be imported (``sys.modules[name] = None`` makes every ``import`` of them raise
``ImportError``), as on a machine where they are not installed.  The child
captures a failing plain Python function through the core's wrapper
(``snapshot.capture_failures`` around a ``snapshot.Capturer``), reads the
snapshot back with the public reader, and prints what it found as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

BLOCK = """
import sys
for name in ("dask", "distributed"):
    sys.modules[name] = None  # import dask -> ImportError, as if not installed
"""


def _run(body: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``body`` in a fresh interpreter with Dask blocked; the JSON it printed."""
    script = tmp_path / "child.py"
    script.write_text(BLOCK + textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "snapshots")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


CAPTURE = """
import json
from pathlib import Path

import snapshot

directory = Path(sys.argv[1])
capturer = snapshot.Capturer(snapshot.CaptureSettings(directory=directory))


@snapshot.capture_failures(capturer)
def divide(total, parts, *, label="batch"):
    share = parts - parts  # a bug: always zero
    return total / share


raised = None
try:
    divide(10.5, 3, label="first")
except ZeroDivisionError as exc:
    raised = exc
(path,) = sorted(directory.glob("*" + snapshot.SNAPSHOT_SUFFIX))
model = snapshot.read_model(path)
opened = snapshot.open_snapshot(path, allow_unsigned=True)
frame = model.frames[-1]
print(json.dumps({
    "notes": list(getattr(raised, "__notes__", [])),
    "traceback_functions": [f.function for f in model.frames],
    "error": [model.error.type, model.error.message],
    "exception": repr(opened.load(model.exception)),
    "call_origin": model.call.origin,
    "func": opened.load(model.call.func).__name__,
    "args": [opened.load(pid) for pid in model.call.args],
    "kwargs": {name: opened.load(pid) for name, pid in model.call.kwargs.items()},
    "frame": [frame.function, frame.lineno],
    "locals": {name: opened.load(pid) for name, pid in frame.locals.items()},
    "task": [model.task.key, model.task.prefix, model.task.occurrence],
    "complete": model.capture.complete,
    "blocked": sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")
                      and sys.modules[m] is not None),
}))
"""


def test_a_plain_function_is_captured_and_read_back_without_dask(tmp_path: Path) -> None:
    found = _run(CAPTURE, tmp_path)
    assert found["blocked"] == []
    # The caller gets its own exception, with a note saying where the file is.
    assert any("snapshot written to" in n for n in found["notes"]), found["notes"]
    # The wrapper's own frame is not in the traceback: the user's function is.
    assert found["traceback_functions"] == ["divide"]
    assert found["error"] == ["ZeroDivisionError", "float division by zero"]
    assert found["exception"] == "ZeroDivisionError('float division by zero')"
    # The call as it was made: function, positional and keyword arguments.
    assert found["call_origin"] == "user_call"
    assert found["func"] == "divide"
    assert found["args"] == [10.5, 3]
    assert found["kwargs"] == {"label": "first"}
    # The raising frame's locals, at the raise.
    assert found["frame"][0] == "divide"
    assert found["locals"] == {"total": 10.5, "parts": 3, "label": "first", "share": 0}
    assert found["task"] == ["divide", "divide", 1]
    assert found["complete"] is True


STORM = """
import json
from pathlib import Path

import snapshot

directory = Path(sys.argv[1])
settings = snapshot.CaptureSettings(directory=directory, max_per_fingerprint=2)
capturer = snapshot.Capturer(settings)
fails = snapshot.capture_failures(capturer)(lambda i: 1 / 0)
notes = []
for i in range(4):
    try:
        fails(i)
    except ZeroDivisionError as exc:
        notes.append(exc.__notes__)
print(json.dumps({
    "files": len(list(directory.glob("*" + snapshot.SNAPSHOT_SUFFIX))),
    "last_note": notes[-1],
    "modes": sorted({oct(p.stat().st_mode & 0o777) for p in [directory, *directory.iterdir()]}),
}))
"""


def test_storms_are_bounded_and_the_directory_is_private_without_dask(tmp_path: Path) -> None:
    found = _run(STORM, tmp_path)
    assert found["files"] == 2
    assert "max-per-fingerprint" in found["last_note"][0]
    assert found["modes"] == ["0o600", "0o700"]
