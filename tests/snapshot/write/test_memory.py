"""Memory follows the data: writing streams a large input without copying it, and
reading allocates for the bytes that arrive, not for the sizes a file claims.

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
HERE = Path(__file__).resolve().parents[1]  # tests/snapshot: crafting.py, samples.py

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
    target = tmp_path / "big.tar.zst"
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


CLAIM = textwrap.dedent(
    """
    import json, resource, sys, tarfile
    sys.path.insert(0, sys.argv[2])
    from crafting import compress, manifest_bytes, member, tar_bytes
    import snapshot

    manifest = manifest_bytes()
    head = tar_bytes([member("manifest.json", manifest)])[: 512 + -(-len(manifest) // 512) * 512]
    info = tarfile.TarInfo("buffers/b0")
    info.size = 3 * 2**30  # under the default limits; the stream holds 100 bytes of it
    with open(sys.argv[1], "wb") as fh:
        fh.write(compress(head + info.tobuf(tarfile.PAX_FORMAT) + b"x" * 100))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        snapshot.open_snapshot(sys.argv[1])
    except snapshot.SnapshotTruncatedError:
        pass
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"before": before, "after": after}))
    """
)


def test_a_header_claiming_gigabytes_allocates_nothing(tmp_path: Path) -> None:
    # A ~300-byte file whose tar header declares 3 GiB: memory follows the data
    # that actually arrives, not the size a header claims (spec, section 9).
    done = subprocess.run(
        [sys.executable, "-c", CLAIM, str(tmp_path / "claim.tar.zst"), str(HERE)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["after"] - result["before"] < 64 * 2**20
