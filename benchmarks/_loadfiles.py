"""Snapshots of in-band data and their baselines, for the inspect and replay rows.

``python -m benchmarks._loadfiles inband KIND N DIR`` makes the input the way
the capture section makes it on a worker (``_inworker.make_input``: large
``bytes``, a bag partition of dicts, a dict of str -> int, a DataFrame of
strings), lets :func:`fail_with` fail on it inside the capture core's wrapper
with the hook's settings (the snapshot a worker writes, without a cluster),
and writes beside it the baseline: ``cloudpickle.dumps`` of the same object,
compressed by zstd level 1.  ``baseline RAW OUT`` writes that baseline for a
raw float64 input of the capture rows.  Each prints one JSON line.

:func:`fail_with` lives here, in a module that imports nothing but the
standard library, so that a replay imports what the data needs (numpy, pandas)
and not distributed, which the worker-side module of the benchmarks imports.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from ._notes import snapshot_path

#: Run by ``python -c`` in the baseline's process: read the file, decompress, unpickle.
LOAD = (
    "import pickle, sys, zstandard\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    data = f.read()\n"
    "obj = pickle.loads(zstandard.ZstdDecompressor().decompress(data))\n"
)

raised_at = 0.0


def fail_with(x: Any) -> None:
    """A bug next to the input (as ``_inworker.fail_with``)."""
    global raised_at
    size = len(x)
    raised_at = time.perf_counter()
    raise ValueError(f"bad partition of {size} items")


def _baseline(x: Any, target: Path) -> int:
    import cloudpickle
    import zstandard

    data = zstandard.ZstdCompressor(level=1).compress(cloudpickle.dumps(x))
    target.write_bytes(data)
    return len(data)


def _capture(x: Any, directory: Path) -> Path:
    import cluster_hook
    import snapshot

    settings = cluster_hook.Settings.from_config(
        {
            "directory": str(directory),
            "max-per-fingerprint": 1_000_000,
            "max-object-size": 4 * 2**30,
            "max-total-size": 8 * 2**30,
        }
    )
    capturer = snapshot.Capturer(settings, origin={"worker": "benchmark"})
    # Run as ``python -m``, this file is ``__main__``, whose functions cloudpickle
    # ships by value: the function is taken from the module by its importable name.
    from benchmarks._loadfiles import fail_with as importable

    failing = snapshot.capture_failures(capturer)(importable)
    try:
        failing(x)
    except ValueError as exc:
        return snapshot_path(exc)
    raise RuntimeError("fail_with did not fail")


def main(argv: list[str]) -> int:
    if argv[0] == "inband":
        from ._inworker import make_input

        kind, n, directory = argv[1], int(argv[2]), Path(argv[3])
        x = make_input(kind, n)
        path = _capture(x, directory)
        baseline = directory / "baseline.pkl.zst"
        print(
            json.dumps(
                {"snapshot": str(path), "baseline": str(baseline), "bytes": _baseline(x, baseline)}
            )
        )
    elif argv[0] == "baseline":
        import numpy as np

        raw, out = Path(argv[1]), Path(argv[2])
        print(json.dumps({"baseline": str(out), "bytes": _baseline(np.fromfile(raw), out)}))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}; expected inband or baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
