"""CPU time one capture costs per further frame, in a plain process.

The same recursion as the benchmark ``capture_frames`` (``fail_deep``: 5 small
locals a frame) under ``@snapshot.capture``, 10, 100 and 900 frames deep,
alternating depth by depth for ROUNDS rounds (after a warm-up); the figure is
the difference of the median CPU times of the process (every thread: the
capture runs in its own) over the difference of depths.  Without a cluster and
on CPU time, it moves far less with a busy machine than the benchmark's wall
clock; ``count_frame_instructions.py`` counts instructions instead.

Usage: ``python scripts/time_frame_capture.py [ROUNDS]``.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import tempfile
import time

import snapshot
from benchmarks._inworker import fail_deep
from benchmarks._notes import snapshot_path

DEPTHS = (10, 100, 900)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    directory = tempfile.mkdtemp()
    failing = snapshot.capture(directory=directory, max_per_fingerprint=10**9)(fail_deep)

    def once(depth: int) -> float:
        start = time.process_time()
        try:
            failing(depth)
        except ValueError as exc:
            spent = time.process_time() - start
            snapshot_path(exc).unlink()
            return spent
        raise RuntimeError("fail_deep did not fail")

    for depth in DEPTHS * 2:  # warm-up: imports, caches
        once(depth)
    times: dict[int, list[float]] = {d: [] for d in DEPTHS}
    for _ in range(rounds):
        for depth in DEPTHS:
            times[depth].append(once(depth))
    median = {d: statistics.median(t) for d, t in times.items()}
    for d in DEPTHS:
        print(f"a capture {d} frames deep: {median[d] * 1e3:.2f} ms of CPU (median)")
    for low, high in itertools.pairwise(DEPTHS):
        slope = (median[high] - median[low]) / (high - low)
        print(f"per further frame, {low} to {high}: {slope * 1e6:.1f} us of CPU")


if __name__ == "__main__":
    main()
