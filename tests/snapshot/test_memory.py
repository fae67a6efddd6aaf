"""Writing streams: a large input does not get copied on its way to disk.

Measured in a fresh subprocess with ``resource.getrusage(...).ru_maxrss`` (the
peak resident set), before and after: the peak may only grow by a fraction of
the array's size.  No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ARRAY_BYTES = 256 * 2**20

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import snapshot

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    # Warm up: imports, zstd contexts, the first write of a small snapshot.
    warm = snapshot.SnapshotBuilder()
    warm.add_inputs({"small": np.arange(1000)})
    warm.write(sys.argv[1] + ".warm")

    array = np.arange(ARRAY_BYTES // 8, dtype=np.float64)  # touched: resident now
    before = peak()
    builder = snapshot.SnapshotBuilder()
    builder.set_call(np.sum, [array])
    builder.add_inputs({("big", 0): array})
    path = builder.write(sys.argv[1])
    after = peak()
    print(json.dumps({"before": before, "after": after, "file": path.stat().st_size}))
    """
).replace("ARRAY_BYTES", str(ARRAY_BYTES))


def test_writing_a_large_input_streams(tmp_path: Path) -> None:
    target = tmp_path / "big.dask-snapshot"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(target)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    growth = result["after"] - result["before"]
    assert growth < ARRAY_BYTES // 4, (
        f"peak RSS grew by {growth / 2**20:.0f} MiB writing a {ARRAY_BYTES / 2**20:.0f} MiB array"
    )
    assert 0 < result["file"] < ARRAY_BYTES
