"""Instructions one capture costs per further frame, counted by valgrind's callgrind.

The benchmark ``capture_frames`` times a worker's capture of a task that raises
10, 100 and 900 frames down (5 small locals a frame); on a shared machine its
per-frame slope moves with the load.  This counts the same recursion's capture
in a plain process (``@snapshot.capture``, the same capture core as the hook's):
each depth is captured N and 3N times in a child process under callgrind (the
capture thread included), the difference over 2N is one capture's count, and
the slope between two depths is the count per further frame.

Usage: ``python scripts/count_frame_instructions.py [N]`` (needs valgrind).
"""

from __future__ import annotations

import itertools
import sys

from benchmarks import _callgrind

DEPTHS = (10, 100, 900)

CHILD = """
import sys, tempfile
sys.setrecursionlimit(10_000)
import snapshot
from benchmarks._inworker import fail_deep
from benchmarks._notes import snapshot_path
depth, n = int(sys.argv[1]), int(sys.argv[2])
failing = snapshot.capture(directory=tempfile.mkdtemp(), max_per_fingerprint=10**9)(fail_deep)
for _ in range(n):
    try:
        failing(depth)
    except ValueError as exc:
        snapshot_path(exc).unlink()
"""


def per_capture(depth: int, n: int) -> float:
    return _callgrind.per_iteration(CHILD, n, 3 * n, str(depth))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    counts = {d: per_capture(d, n) for d in DEPTHS}
    for d in DEPTHS:
        print(f"a capture {d} frames deep: {counts[d]:,.0f} instructions")
    for low, high in itertools.pairwise(DEPTHS):
        slope = (counts[high] - counts[low]) / (high - low)
        print(f"per further frame, {low} to {high}: {slope:,.0f} instructions")


if __name__ == "__main__":
    main()
