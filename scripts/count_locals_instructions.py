"""Instructions the dask policy's ``frame_locals`` costs per frame, counted by callgrind.

900 live frames of a recursion with 5 small locals a frame (as ``fail_deep``:
an int, an int, a str, a float and a tuple every frame shares) are read by
``cluster_hook._policy.frame_locals`` with one per-capture redactor, N and 3N
times in two child processes; the difference over 2N, over 900, is one
frame's count.  ``--plain`` counts the plain policy's ``plain_locals`` instead
(the capture core's own, without dask's scrubbing).

Usage: ``python scripts/count_locals_instructions.py [--plain] [N]`` (needs valgrind).
"""

from __future__ import annotations

import sys

from benchmarks import _callgrind

FRAMES = 900

CHILD = """
import sys
sys.setrecursionlimit(10_000)
import dask._task_spec, snapshot
from {module} import {function} as locals_of
frames = []
def down(n, i, s, f, t):
    if n <= 1:
        g = sys._getframe()
        while g is not None and len(frames) < {frames}:
            frames.append(g)
            g = g.f_back
        return
    down(n - 1, i + 1, s, f, t)
down({frames}, 0, "frame", 0.5, (1, 2))
base = snapshot.Redactor()
for _ in range(int(sys.argv[1])):
    redactor = base.for_capture()
    for frame in frames:
        locals_of(frame, redactor)
"""


def main() -> None:
    args = sys.argv[1:]
    plain = "--plain" in args
    numbers = [a for a in args if a != "--plain"]
    n = int(numbers[0]) if numbers else 5
    module, function = (
        ("snapshot._capture.failure", "plain_locals")
        if plain
        else ("cluster_hook._policy", "frame_locals")
    )
    code = CHILD.format(module=module, function=function, frames=FRAMES)
    per = _callgrind.per_iteration(code, n, 3 * n)
    print(f"{function} over {FRAMES} frames: {per:,.0f} instructions, {per / FRAMES:,.0f} a frame")


if __name__ == "__main__":
    main()
