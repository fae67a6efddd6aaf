"""Capture memory is bounded whatever the input type: 64 MiB + 5% of the input at most.

Measured in a fresh subprocess: the peak resident set (``VmHWM``, reset through
``/proc/self/clear_refs`` once the input exists) during a whole capture and
write, minus the resident set before it.  The input is held by the call, the
inputs and a frame, as on a worker.  No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MiB = 2**20

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import snapshot

    def status(field):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024

    def make(kind):
        if kind == "bytes":
            return os.urandom(256 * 2**20)
        if kind == "dataframe":  # object and pyarrow strings: the memo case
            import pandas as pd

            words = ["item-%d-%d" % (i % 50_000, i) for i in range(2_000_000)]
            return pd.DataFrame({"obj": pd.Series(words, dtype=object),
                                 "arrow": pd.Series(words, dtype="string[pyarrow]")})
        return [{"a": i, "b": "x%d" % i, "c": float(i)} for i in range(2_000_000)]

    def job(x):
        raise ValueError("the task failed")

    warm = snapshot.SnapshotBuilder(spool_dir=sys.argv[2])
    warm.add([{"a": 1}], label="warm")
    warm.write(sys.argv[1] + ".warm")

    empty = status("VmRSS")
    data = make(sys.argv[3])
    before = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current resident set
    builder = snapshot.SnapshotBuilder(spool_dir=sys.argv[2])
    builder.set_call(job, [data])
    builder.add_inputs({"dep": data})
    try:
        job(data)
    except ValueError as exc:
        builder.capture_exception(exc)
    path = builder.write(sys.argv[1])
    peak = status("VmHWM")
    print(json.dumps({"input": before - empty, "extra": peak - before,
                      "file": path.stat().st_size, "left_out": builder.left_out()}))
    """
)


@pytest.mark.parametrize("kind", ["bytes", "dicts", "dataframe"])
def test_capture_memory_is_bounded(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "big.tar.zst"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(target), str(tmp_path), kind],
        capture_output=True,
        text=True,
        timeout=240,  # under pytest-timeout's 300 s (pyproject): this one can fire and say why
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["left_out"] == []
    bound = 64 * MiB + result["input"] // 20
    assert result["extra"] <= bound, (
        f"capture of {result['input'] / MiB:.0f} MiB of {kind} took "
        f"{result['extra'] / MiB:.0f} MiB extra (bound {bound / MiB:.0f} MiB)"
    )
    assert not list(tmp_path.glob("tmp*")), "spool files are anonymous"
