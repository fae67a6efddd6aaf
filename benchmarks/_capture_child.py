"""One capture or one raw write, in a fresh interpreter: ``python -m benchmarks._capture_child``.

A fresh process per measurement gives a clean peak-memory reading.  The input
is read from a raw file first (not timed), then either

* ``capture RAW DIR``: a function holding it fails inside the capture core's
  wrapper (``snapshot.capture_failures``: the ``snapshot.Capturer`` that the
  hook's run_spec wrapper calls on a worker), with the hook's settings
  (``cluster_hook.Settings``), which writes the snapshot into DIR; or
* ``raw RAW FILE``: the same bytes are written to FILE and fsynced.

It prints one JSON line: the seconds from the raise (or the first write) to
the file being complete, and the extra peak memory.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _userfuncs
from ._notes import snapshot_path


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Extra peak resident memory over the resident memory at ``start()``."""

    def start(self) -> None:
        self.reset = _reset_peak()
        self.before = _status_kib("VmRSS") or 0
        self.hwm_before = _status_kib("VmHWM") or 0

    def extra_bytes(self) -> int:
        hwm = _status_kib("VmHWM") or 0
        # Without a reset, a peak from before start() would hide ours; then the
        # figure is only an upper bound of nothing, so say so by returning -1.
        if not self.reset and hwm <= self.hwm_before:
            return -1
        return max(hwm - self.before, 0) * 1024


def _write_raw(data: memoryview, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = data.cast("B")
        while view.nbytes:
            written = os.write(fd, view[: 1 << 30])
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _capturer(directory: Path, max_object: int) -> Any:
    import cluster_hook
    import snapshot

    settings = cluster_hook.Settings.from_config(
        {
            "directory": str(directory),
            "max-per-fingerprint": 1_000_000,
            "max-object-size": max_object,
            "max-total-size": 2 * max_object + 2**30,
        }
    )
    return snapshot.Capturer(settings, origin={"worker": "benchmark", "worker_name": "benchmark"})


def _fail_in_hook(capturer: Any, value: Any) -> tuple[float, str]:
    """Run a failing function through the capture wrapper; return (seconds, snapshot path)."""
    import snapshot

    failing = snapshot.capture_failures(capturer)(_userfuncs.fail_holding)
    try:
        failing(value)
    except ValueError as exc:
        done = time.perf_counter()
        return done - _userfuncs.raised_at, str(snapshot_path(exc))
    raise RuntimeError("the task did not fail")


def main(argv: list[str]) -> int:
    mode, raw_file, out = argv
    data = np.fromfile(raw_file, dtype=np.float64)
    peak = PeakMemory()
    result: dict[str, Any] = {"input_bytes": data.nbytes}
    if mode == "raw":
        peak.start()
        cpu = time.process_time()
        start = time.perf_counter()
        _write_raw(data.data, Path(out))
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = time.process_time() - cpu
        result["bytes"] = Path(out).stat().st_size
    elif mode == "capture":
        capturer = _capturer(Path(out), max(2 * data.nbytes, 2**30))
        # A worker has run tasks and failed before: warm up imports and caches
        # with a small failure, then measure the big one.
        _fail_in_hook(capturer, np.ones(1024))
        for leftover in Path(out).iterdir():
            if leftover.is_file():
                leftover.unlink()
        peak.start()
        cpu = time.process_time()
        secs, path = _fail_in_hook(capturer, data)
        # Process CPU time, all threads (zstd's worker thread included).
        result["cpu_seconds"] = time.process_time() - cpu
        result["seconds"] = secs
        result["path"] = path
        result["bytes"] = Path(path).stat().st_size
        from ._manifest import read_manifest

        manifest = read_manifest(Path(path))
        result["stored_buffer_bytes"] = sum(b["size"] for b in manifest["buffers"].values())
        result["complete"] = manifest["capture"]["complete"]
    else:
        raise SystemExit(f"unknown mode {mode!r}; expected capture or raw")
    result["peak_extra_bytes"] = peak.extra_bytes()
    result["peak_reset"] = peak.reset
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
