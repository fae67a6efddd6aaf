"""Capture: from the raise to the renamed snapshot file, against the disk and ``zstd -1``.

Per input (random normal and ``np.arange`` float64, at each size) three
contenders alternate, each in a fresh process with the input already in
memory: the hook's capture (``CapturingTask`` around a failing dask ``Task``,
exactly what a worker runs), a plain write of the same bytes with fsync, and
the ``zstd -1`` command compressing the same bytes file to file.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._harness import Outcome, Series, alternate, mib, ratio, seconds, wall
from ._report import Row, Section, table
from ._userfuncs import KINDS
from ._workspace import Workspace

#: The targets of capture.
RAW_RATIO = 1.2  # incompressible: capture time / raw write time
ZSTD_RATIO = 1.2  # compressible: capture time / zstd -1 time
ZSTD_SIZE = 1.05  # compressible: snapshot size / zstd -1 output size
PEAK_FIXED = 64 * 2**20  # extra peak memory: 64 MiB ...
PEAK_SHARE = 0.05  # ... plus 5% of the input


def run(ws: Workspace) -> Section:
    section = Section("capture", "Capture")
    zstd = shutil.which("zstd")
    if zstd is None:
        section.error = "the zstd command is not installed: no baseline to compare with"
        return section
    detail: list[list[str]] = []
    for nbytes, rounds in ws.scale.capture_sizes:
        for kind in KINDS:
            ws.log(f"capture: {kind} {mib(nbytes)}, {rounds} rounds")
            series = _measure(ws, zstd, kind, nbytes, rounds)
            _rows(section, kind, nbytes, series)
            detail.append(_detail(kind, nbytes, series))
            ws.drop_raw(kind, nbytes)
    section.tables.append(
        "Per input: what each contender wrote, the extra peak memory of its process and the "
        "CPU time it used, user + system, all threads (medians over the rounds).\n\n"
        + table(
            (
                "input",
                "snapshot",
                "zstd -1 output",
                "snapshot / zstd -1",
                "fsync after zstd -1",
                "extra peak: capture",
                "extra peak: raw write",
                "CPU: capture / raw write / zstd -1",
            ),
            detail,
        )
    )
    section.notes += [
        "Capture time runs from the moment the task raises (a `time.perf_counter()` taken "
        "on the line before the `raise`) to the moment the hook's wrapper re-raises: the "
        "pieces are pickled, the file is written, fsynced and renamed, and the manifest is "
        "read back (the hook checks what was left out); a worker does nothing more.",
        "Each capture runs in a fresh process that first reads the input from a raw file and "
        "captures one small failure (a worker that has run tasks has its imports warm); "
        "neither is timed. Extra peak memory is VmHWM after the capture minus VmRSS just "
        "before the raise, with VmHWM reset through /proc/self/clear_refs.",
        "Writing speed on this machine depends on where the bytes land: here a 512 MiB "
        "write + fsync took about 1.4 s into blocks not written for a while and about 0.21 s "
        "into blocks just freed (a virtual disk, ext4 mounted with `discard`). So every "
        "contender writes into a directory of its own and deletes its output as soon as it is "
        "measured, the benchmark calls "
        "`os.sync()` before each one (not timed), and one warm-up round per input is not "
        "counted: all three write into the same kind of space. The snapshots that the "
        "inspect and replay sections read are written after the rounds, untimed. The "
        "disk still switches between its two speeds from one write to the next, for every "
        "contender alike: the min-max spreads show it, and so do the per-round ratios of the "
        "random input's rows. Their 'bests' ratio (fastest capture over fastest raw write) "
        "is the cost of the capture itself.",
        "The raw write is `os.write` of the array's buffer plus `os.fsync`, in a fresh "
        "process like the capture. `zstd -1 -q -f IN -o OUT` (zstd's defaults: one worker "
        "thread) reads the input from the page cache and does not fsync its output; the "
        "column 'fsync after zstd -1' is what fsyncing its output afterwards took, not "
        "included in the baseline, which makes the baseline the stricter one.",
        "The snapshots are written with `snapshot.max-object-size` raised to twice the input: "
        "the default (512 MiB) leaves out a 512 MiB array, whose pickle is a few bytes larger "
        "than the cap, and any larger one.",
    ]
    if any(rounds != ws.scale.rounds for _, rounds in ws.scale.capture_sizes):
        section.notes.append(
            "Rounds per size: "
            + ", ".join(f"{mib(n)}: {r}" for n, r in ws.scale.capture_sizes)
            + " (writing to this disk varies a lot from one write to the next, so the smaller inputs get more rounds; the largest takes the most time per round)."
        )
    return section


def _measure(ws: Workspace, zstd: str, kind: str, nbytes: int, rounds: int) -> dict[str, Series]:
    raw = ws.raw_file(kind, nbytes)
    work = ws.fresh_dir(f"capture/{kind}-{nbytes}")
    # One directory per contender: ext4 places each directory's files in block groups
    # of their own, so each contender rewrites the space it freed the round before.
    for name in ("snapshots", "raw", "zstd"):
        (work / name).mkdir()

    def capture() -> Outcome:
        out = ws.child("capture", raw, work / "snapshots")
        if not out["complete"] or out["stored_buffer_bytes"] < nbytes:
            raise RuntimeError(f"the snapshot left the input out: {out}")
        Path(out["path"]).unlink()  # like the other contenders' outputs: see the notes
        return out["seconds"], out

    def raw_write() -> Outcome:
        target = work / "raw" / "raw.f64"
        out = ws.child("raw", raw, target)
        target.unlink()
        return out["seconds"], out

    def zstd_1() -> Outcome:
        target = work / "zstd" / "zstd.zst"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        secs = wall([zstd, "-1", "-q", "-f", raw, "-o", target])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        facts: dict[str, Any] = {
            "bytes": target.stat().st_size,
            "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        }
        fd = os.open(target, os.O_RDONLY)
        try:
            start = time.perf_counter()
            os.fsync(fd)
            facts["fsync_seconds"] = time.perf_counter() - start
        finally:
            os.close(fd)
        target.unlink()
        return secs, facts

    series = alternate(
        {"capture": _synced(capture), "raw write": _synced(raw_write), "zstd -1": _synced(zstd_1)},
        rounds,
        warmup=ws.scale.warmup,
        progress=lambda m: ws.log(f"capture: {kind} {mib(nbytes)}: {m}"),
    )
    shutil.rmtree(work, ignore_errors=True)
    ws.snapshot(kind, nbytes)  # one more, kept for the inspect and replay sections
    return series


def _synced(contender: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """Start each contender with no dirty page of anyone's left to write (not timed):
    otherwise the previous contender's writeback lands on this one's fsync."""

    def run() -> Outcome:
        os.sync()
        return contender()

    return run


def _peak_limit(nbytes: int) -> float:
    return PEAK_FIXED + PEAK_SHARE * nbytes


def _rows(section: Section, kind: str, nbytes: int, s: dict[str, Series]) -> None:
    cap, raw, z = s["capture"], s["raw write"], s["zstd -1"]
    label = f"{kind} {mib(nbytes)}"
    if kind == "random":
        r = ratio(cap, raw)
        section.rows.append(
            Row(
                f"capture {label} vs raw write + fsync",
                cap.describe(),
                raw.describe(),
                r.describe(),
                f"<= {RAW_RATIO}",
                r.median <= RAW_RATIO,
            )
        )
        r2 = ratio(cap, z)
        section.rows.append(
            Row(f"capture {label} vs zstd -1", cap.describe(), z.describe(), r2.describe())
        )
    else:
        r = ratio(cap, z)
        section.rows.append(
            Row(
                f"capture {label} vs zstd -1",
                cap.describe(),
                z.describe(),
                r.describe(),
                f"<= {ZSTD_RATIO}",
                r.median <= ZSTD_RATIO,
            )
        )
        size, zsize = cap.fact_median("bytes"), z.fact_median("bytes")
        if size is not None and zsize:
            section.rows.append(
                Row(
                    f"snapshot size {label} vs zstd -1 output",
                    mib(size),
                    mib(zsize),
                    f"{size / zsize:.3f}",
                    f"<= {ZSTD_SIZE}",
                    size / zsize <= ZSTD_SIZE,
                )
            )
        r2 = ratio(cap, raw)
        section.rows.append(
            Row(
                f"capture {label} vs raw write + fsync",
                cap.describe(),
                raw.describe(),
                r2.describe(),
            )
        )
    peaks = cap.fact("peak_extra_bytes")
    if peaks and min(peaks) >= 0:
        worst = max(peaks)
        limit = _peak_limit(nbytes)
        section.rows.append(
            Row(
                f"extra peak memory, capture {label}",
                f"{mib(worst)} (worst of {len(peaks)})",
                "-",
                f"{worst / nbytes:.1%} of the input",
                f"<= 64 MiB + 5% = {mib(limit)}",
                worst <= limit,
            )
        )


def _detail(kind: str, nbytes: int, s: dict[str, Series]) -> list[str]:
    cap, raw, z = s["capture"], s["raw write"], s["zstd -1"]
    size, zsize = cap.fact_median("bytes"), z.fact_median("bytes")
    fsync = z.fact_median("fsync_seconds")
    peak, raw_peak = cap.fact_median("peak_extra_bytes"), raw.fact_median("peak_extra_bytes")
    return [
        f"{kind} {mib(nbytes)}",
        mib(size) if size is not None else "-",
        mib(zsize) if zsize is not None else "-",
        f"{size / zsize:.3f}" if size and zsize else "-",
        f"{fsync * 1000:.0f} ms" if fsync is not None else "-",
        mib(peak) if peak is not None and peak >= 0 else "-",
        mib(raw_peak) if raw_peak is not None and raw_peak >= 0 else "-",
        " / ".join(_cpu(x.fact_median("cpu_seconds")) for x in (cap, raw, z)),
    ]


def _cpu(value: float | None) -> str:
    return "-" if value is None else seconds(value)
