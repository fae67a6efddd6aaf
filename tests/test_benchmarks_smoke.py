"""The benchmarks keep running: ``python -m benchmarks --smoke`` writes every section.

Tiny sizes and one round; no timing is asserted here, ever (the figures of a
smoke run mean nothing).  The real run is ``make bench``.  The sections run in
a few groups, each its own ``--smoke --only ...`` process, so that no one test
runs long on a loaded 2-core machine; together they cover every section, and
every target of issues 5, 8 and 9 has a row with a verdict (met or not).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._cli import SECTIONS

ROOT = Path(__file__).resolve().parent.parent

#: (sections run together, headings expected, rows expected)
GROUPS = {
    "success": (
        ("success",),
        ("## Success path",),
        (
            "tasks a round, two workers, hook toggled",
            "the same rounds: CPU time of the workers",
            "instructions per task executed by a worker process (valgrind's callgrind)",
            "% CI ",  # each ratio with the confidence interval of its median
        ),
    ),
    "capture and inspect": (
        ("capture", "inspect_replay"),
        ("## Capture", "## Inspect and replay"),
        (
            "capture random 1 MiB vs raw write + fsync",
            "capture arange 1 MiB vs zstd -1",
            "snapshot size arange 1 MiB vs zstd -1 output",
            "extra peak memory, capture random 1 MiB",
            "`replay info`",
            "`replay --no-debug`",
            # issue 21: info on in-band data, replay against one zstd'd pickle, its peak
            "`replay info`, in-band dicts 2,000",
            "`replay --no-debug` vs `pickle.loads` of one zstd'd pickle, bytes 1,048,576",
            "`replay --no-debug` vs `pickle.loads` of one zstd'd pickle, random 1 MiB input",
            "peak RSS of `replay --no-debug` vs of `pickle.loads`, strdict 2,000",
            "peak RSS of `replay --no-debug` vs of `pickle.loads`, dataframe 2,000",
        ),
    ),
    "in-band capture and inspection bounds": (
        ("capture_inband", "inspect_bounds"),
        ("## Capture of in-band data, on a worker", "## Inspection bounds"),
        (
            # capture of in-band data
            "capture 1 MiB `bytes`: hook on - hook off",
            "capture 2 MiB `bytes`: hook on - hook off",
            "capture 2,000 small dicts (a bag partition): hook on - hook off",
            "capture dict of 2,000 str -> int: hook on - hook off",
            "capture 2,000-row DataFrame, object + pyarrow strings: hook on - hook off",
            "capture 1 MiB numpy array held by three frames: hook on - hook off",
            "snapshot size, 2,000 small dicts (a bag partition), vs one zstd -1'd pickle",
            "extra peak RSS of the worker, capture 2 MiB `bytes`",
            # inspection bounds
            "`replay info`, genuine snapshot of a task holding 2,000 small dicts",
            "`replay info`, crafted file that expands to 256 KiB",
            ": peak RSS",
            "`replay list` over 100 small snapshots, per file",
        ),
    ),
    "html": (
        ("html",),
        ("## HTML page",),
        (
            "`replay html`, small snapshot (arange input)",
            "`replay html`, genuine snapshot of a task holding 2,000 small dicts",
            "`replay html`, crafted file that expands to 256 KiB",
            ": peak RSS",
        ),
    ),
    "frames": (
        ("capture_frames",),
        ("## Capture per frame, first capture",),
        (
            "capture per further frame, 10 to 100 frames",
            "capture per further frame, 100 to 900 frames",
            "CPU time of the worker per further frame, 100 to 900 frames",
            "first capture in a fresh worker, over a warm one",
        ),
    ),
    "storm": (
        ("storm",),
        ("## Error storm",),
        ("tasks failing with the same bug", "snapshots on disk after the storm"),
    ),
    "anchor": (
        ("anchor",),
        ("## Time to a debugger, against the anchor",),
        ("`client.recreate_error_locally(future)`",),
    ),
    "plain": (
        ("plain",),
        ("## Plain-Python capture on success",),
        (
            "calls of a trivial function",
            "calls of a function doing a small JSON parse and sum",
            "instructions per call of the small JSON parse and sum",
        ),
    ),
    "dashboard": (
        ("dashboard",),
        ("## Dashboard: the Snapshots list",),
        ("`GET /snapshots/` with 1,000 snapshots on the cluster",),
    ),
    "check and shrink": (
        ("check_shrink",),
        ("## Check and shrink",),
        ("`replay check` per snapshot", "`replay shrink`, 20,000-row DataFrame"),
    ),
}


def test_the_groups_cover_every_section() -> None:
    assert sorted(s for sections, _, _ in GROUPS.values() for s in sections) == sorted(SECTIONS)


@pytest.mark.parametrize("group", GROUPS)
def test_smoke_run_writes_its_sections(tmp_path: Path, group: str) -> None:
    sections, headings, rows = GROUPS[group]
    output = tmp_path / "perf.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    only = [arg for name in sections for arg in ("--only", name)]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--smoke",
            *only,
            "--output",
            str(output),
            "--workdir",
            str(tmp_path / "scratch"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    text = output.read_text(encoding="utf-8")
    for heading in ("## Machine", "## Targets", *headings, "## Method"):
        assert heading in text, f"{heading!r} missing from the report"
    assert "failed before it finished" not in text
    for measurement in rows:
        assert measurement in text, f"no row for {measurement!r}"
    # The scratch directory (inputs, snapshots) is removed after the run.
    assert not any((tmp_path / "scratch").iterdir())
