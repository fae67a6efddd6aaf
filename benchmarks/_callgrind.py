"""Instructions a child Python process executes, counted by valgrind's callgrind.

Wall and CPU times move by several percent with whatever else runs on a shared
machine; a count of instructions does not.  The one runner of such counts:
``benchmarks.plain`` (the decorator's cost per call), and the scripts
``count_hook_instructions.py``, ``count_frame_instructions.py`` and
``count_locals_instructions.py`` (the dask policy's locals per frame).  A loop is
run ``low`` and ``high`` times in two children; the difference of the counts
over ``high - low`` is the count per iteration, start-up and imports cancelled
out.  (``_countworker`` reads a running worker's count instead.)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: The child's environment: a fixed hash seed, and no thread pool of numpy's BLAS
#: (numpy is imported with the benchmarks package; OpenBLAS's idle thread spins for
#: a while, and under callgrind that made a count of 60,000 calls vary by 25 million
#: instructions from run to run: with one thread, counts repeat to the instruction).
ONE_THREAD = {
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def available() -> bool:
    return shutil.which("valgrind") is not None


def instructions(code: str, *args: str) -> int:
    """Instructions of ``python -c code *args`` (every thread), start to exit."""
    done = subprocess.run(
        [
            *("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"),
            *(sys.executable, "-c", code, *args),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        cwd=tempfile.gettempdir(),
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind reported no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _env() -> dict[str, str]:
    """This checkout first on the child's path (it runs in a scratch directory)."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **ONE_THREAD, "PYTHONPATH": path}


def per_iteration(code: str, low: int, high: int, *args: str) -> float:
    """Instructions per iteration of a child whose last argument is its iteration count."""
    counts = [instructions(code, *args, str(n)) for n in (low, high)]
    return (counts[1] - counts[0]) / (high - low)
