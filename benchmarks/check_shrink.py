"""From a failure to a fix: ``python -m replay check`` per snapshot against ``python -m
replay SNAPSHOT --no-debug`` of the same file, and ``python -m replay shrink`` of a
2,000,000-row partition with one bad row.

``check`` runs each snapshot's call in a child process of its own; its cost per
snapshot must stay within 1.2x of a plain replay that re-raises.  ``shrink`` must
bring the partition down to the one row that makes the function raise within 60 s.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import snapshot

from ._harness import Series, alternate, mib, ratio, seconds, wall
from ._report import Row, Section
from ._workspace import Workspace

CHECK_RATIO = 1.2
SHRINK_SECONDS = 60.0

PIPELINE = """\
def clean(df):
    prices = df["price"]
    bad = prices[prices < 0]
    if len(bad):
        raise ValueError(f"negative price in row {bad.index[0]}")
    return prices.sum()
"""


def _partition(path: Path, rows: int) -> Path:
    """A snapshot of ``clean`` failing on a ``rows``-row DataFrame with one bad row."""
    import numpy as np
    import pandas as pd

    namespace: dict[str, object] = {"__name__": "bench_pipeline"}  # not importable: by value
    exec(compile(PIPELINE, "/client/pipeline.py", "exec"), namespace)
    clean = namespace["clean"]
    frame = pd.DataFrame({"price": np.arange(rows, dtype=float), "sku": np.arange(rows) % 977})
    frame.loc[rows * 3 // 5, "price"] = -5.0
    builder = snapshot.SnapshotBuilder()
    try:
        clean(frame)  # type: ignore[operator]
    except ValueError as exc:
        builder.capture_exception(exc, skip_frames=1)
    builder.set_call(clean, (frame,), {})
    builder.add_inputs({})
    builder.manifest["task"] = {"key": "clean-bench"}
    builder.write(path)
    return path


def run(ws: Workspace) -> Section:
    section = Section("check_shrink", "Check and shrink")
    python = sys.executable
    rounds = ws.scale.rounds

    def py(*args: str | Path, ok: tuple[int, ...] = (0,), expect: str | None = None) -> float:
        return wall([python, *args], ok=ok, cwd=ws.root, env=ws.env, expect=expect)

    path = ws.snapshot("arange", ws.scale.main_bytes)
    label = f"arange {mib(ws.scale.main_bytes)} input, {mib(path.stat().st_size)} file"
    ws.log(f"check: {label}")
    s = alternate(
        {
            "check": partial(py, "-m", "replay", "check", path, ok=(1,), expect=": fails"),
            "replay --no-debug": partial(
                py, "-m", "replay", path, "--no-debug", ok=(1,), expect="ValueError: bad partition"
            ),
        },
        rounds,
        warmup=ws.scale.warmup,
        progress=lambda line: ws.log(f"check {label}: {line}"),
    )
    r = ratio(s["check"], s["replay --no-debug"])
    section.rows.append(
        Row(
            f"`replay check` per snapshot, {label}",
            s["check"].describe(),
            s["replay --no-debug"].describe(),
            r.describe(),
            f"<= {CHECK_RATIO}",
            r.median <= CHECK_RATIO,
        )
    )

    rows = 20_000 if ws.scale.smoke else 2_000_000
    directory = ws.fresh_dir("shrink")
    big = _partition(directory / "partition.tar.zst", rows)
    small = directory / "one-row.tar.zst"
    ws.log(f"shrink: {rows:,} rows, {mib(big.stat().st_size)} file")
    times = Series("shrink")
    for index in range(max(1, min(rounds, 3))):
        times.seconds.append(
            py("-m", "replay", "shrink", big, "-o", small, "--force", "--budget", "600")
        )
        ws.log(f"shrink round {index + 1}: {seconds(times.seconds[-1])}")
    shrunk = snapshot.parse_manifest(snapshot.read_manifest(str(small))).shrunk
    after = [p.after for p in shrunk.inputs] if shrunk is not None else []
    attempts = shrunk.attempts if shrunk is not None else None
    one_row = after == [1]
    section.rows.append(
        Row(
            f"`replay shrink`, {rows:,}-row DataFrame with one bad row, to that row",
            f"{times.describe()} ({attempts} attempts; rows left: {after})",
            "-",
            "-",
            f"<= {SHRINK_SECONDS:g} s, one row",
            one_row and times.median <= SHRINK_SECONDS,
        )
    )
    section.notes += [
        "`python -m replay check S` (exit status 1, `fails`) against `python -m replay S "
        "--no-debug` (exit status 1, the task's `ValueError`), both as new processes: check "
        "adds its own child process per snapshot.",
        "`python -m replay shrink` wall time, start to exit: loading the snapshot, every "
        "attempt in a forked child, and writing the one-row snapshot; the row count left is "
        "read back from the written file's `shrunk` section.",
    ]
    return section
