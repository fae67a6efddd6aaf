"""Capture of data that pickles in-band, on a real worker, against one pickle + zstd + fsync.

The inputs: large ``bytes``, a bag partition of small dicts, a
dict of a million entries, a DataFrame of object and pyarrow strings, and a
numpy array that three frames hold.  Each is made on the one worker of a
``LocalCluster(n_workers=1, threads_per_worker=1, processes=True)`` and held
there as a task result; a task depending on it fails.  Per round, alternating:
the failing task with the hook on, the same task with the hook off (see
``_hooked``), and the baseline, ``cloudpickle.dumps`` of the object once +
python-zstandard level 1 + write + fsync, run as a task in the same worker.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _inworker
from ._harness import Series, alternate, mib, ratio, seconds
from ._hooked import HookedWorker, hooked_worker
from ._manifest import manifest_facts
from ._report import Row, Section, table
from ._workspace import Workspace

TIME_RATIO = 1.3  # capture time / (cloudpickle.dumps + zstd -1 + fsync)
SIZE_RATIO = 1.1  # snapshot size / one zstd -1'd pickle
PEAK_FIXED = 64 * 2**20  # extra peak RSS: 64 MiB ...
PEAK_SHARE = 0.05  # ... plus 5% of the input (its size in memory)
MiB = 2**20


@dataclass(frozen=True)
class Input:
    kind: str  # _inworker.make_input's kind
    full: int  # bytes or items, full run
    smoke: int  # the same, smoke run
    label: str  # with {n}: the size or count
    func: Any = _inworker.fail_with

    def n(self, smoke: bool) -> int:
        return self.smoke if smoke else self.full

    def describe(self, smoke: bool) -> str:
        n = self.n(smoke)
        size = mib(n) if self.kind in ("bytes", "numpy") else _count(n)
        return self.label.format(n=size)


INPUTS = (
    Input("bytes", 64 * MiB, 1 * MiB, "{n} `bytes`"),
    Input("bytes", 256 * MiB, 2 * MiB, "{n} `bytes`"),
    Input("dicts", 2_000_000, 2_000, "{n} small dicts (a bag partition)"),
    Input("strdict", 1_000_000, 2_000, "dict of {n} str -> int"),
    Input("dataframe", 2_000_000, 2_000, "{n}-row DataFrame, object + pyarrow strings"),
    Input(
        "numpy",
        64 * MiB,
        1 * MiB,
        "{n} numpy array held by three frames",
        _inworker.fail_in_three_frames,
    ),
)
#: The input whose snapshot the inspection section reads ("a task holding 2 million dicts").
KEPT = "dicts"


def dicts_snapshot(ws: Workspace) -> Path:
    """The snapshot of a task holding the dicts input: this section's, or a new one."""
    item = next(i for i in INPUTS if i.kind == KEPT)
    key = (KEPT, item.n(ws.scale.smoke))
    path = ws.snapshots.get(key)
    if path is not None and path.exists():
        return path
    work = ws.fresh_dir("dicts-snapshot")
    with hooked_worker(work / "snapshots", 60 if ws.scale.smoke else 900) as hw:
        x = hw.client.submit(_inworker.make_input, item.kind, item.n(ws.scale.smoke), pure=False)
        hw.hook(True)
        failure = hw.fail(item.func, x)
        hw.hook(False)
    if failure.snapshot is None:
        raise RuntimeError("the hook wrote no snapshot of the dicts task")
    ws.snapshots[key] = failure.snapshot
    return failure.snapshot


def _count(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        millions = n // 1_000_000
        return f"{millions} million" if millions > 1 else "1 million"
    return f"{n:,}"


def run(ws: Workspace) -> Section:
    section = Section("capture_inband", "Capture of in-band data, on a worker")
    detail: list[list[str]] = []
    notes: list[str] = []
    work = ws.fresh_dir("capture-inband")
    timeout = 60 if ws.scale.smoke else 900
    shared = None if ws.scale.fresh_worker_per_input else hooked_worker(work / "snapshots", timeout)
    with shared if shared is not None else contextlib.nullcontext() as one:
        for item in INPUTS:
            label = item.describe(ws.scale.smoke)
            ws.log(f"capture in-band: {label}")
            # The full run gives each input a new cluster: no freed-but-resident memory
            # of the last input for this one's capture to reuse.
            fresh = hooked_worker(work / "snapshots", timeout) if one is None else None
            with fresh if fresh is not None else contextlib.nullcontext(one) as hw:
                assert hw is not None
                n = item.n(ws.scale.smoke)
                x = hw.client.submit(_inworker.make_input, item.kind, n, pure=False)
                in_memory = hw.client.submit(_inworker.deep_size, x, pure=False).result(timeout)
                series = _measure(ws, hw, item, x, work, label)
                del x
            _rows(section, label, in_memory, series, notes)
            detail.append(_detail(label, in_memory, series))
    shutil.rmtree(work / "snapshots", ignore_errors=True)
    section.tables.append(
        "Per input (medians over the rounds): the input's size in the worker's memory, its "
        "one pickle and that pickle compressed, the snapshot, the failing task's own cost "
        "without the hook, and the extra peak RSS of the worker in each contender.\n\n"
        + table(
            (
                "input",
                "in memory",
                "pickle",
                "zstd -1'd pickle",
                "snapshot",
                "hook off: raise to error",
                "extra peak: hook on / hook off / baseline",
            ),
            detail,
        )
    )
    section.notes += notes + NOTES
    return section


def _measure(
    ws: Workspace, hw: HookedWorker, item: Input, x: Any, work: Path, label: str
) -> dict[str, Series]:
    baseline_dir = ws.fresh_dir("capture-inband/baseline")
    kept_dir = ws.fresh_dir("capture-inband/kept")

    def hook_on() -> tuple[float, dict[str, Any]]:
        hw.hook(True)
        failure = hw.fail(item.func, x)
        facts: dict[str, Any] = {"peak_extra": failure.peak_extra, "snapshot": None}
        if failure.snapshot is not None:
            facts.update(manifest_facts(failure.snapshot), bytes=failure.snapshot.stat().st_size)
            if item.kind == KEPT:
                for old in kept_dir.iterdir():
                    old.unlink()
                kept = failure.snapshot.rename(kept_dir / failure.snapshot.name)
                ws.snapshots[(KEPT, item.n(ws.scale.smoke))] = kept
                facts["snapshot"] = str(kept)
            else:
                failure.snapshot.unlink()  # like the baseline's file: see the notes
        return failure.seconds, facts

    def hook_off() -> tuple[float, dict[str, Any]]:
        hw.hook(False)
        failure = hw.fail(item.func, x)
        return failure.seconds, {"peak_extra": failure.peak_extra}

    def baseline() -> tuple[float, dict[str, Any]]:
        out = hw.baseline(x, baseline_dir / "baseline.pkl.zst")
        return float(out.pop("seconds")), out

    series = alternate(
        {"hook on": hook_on, "hook off": hook_off, "baseline": baseline},
        ws.scale.inband_rounds,
        warmup=ws.scale.warmup,
        progress=lambda m: ws.log(f"capture in-band: {label}: {m}"),
        budget=ws.scale.inband_budget,
    )
    hw.hook(False)
    on, off = series["hook on"], series["hook off"]
    capture = Series(
        "capture",
        [a - b for a, b in zip(on.seconds, off.seconds, strict=True)],
        on.facts,
    )
    return {"capture": capture, **series}


def _rows(
    section: Section, label: str, in_memory: int, s: dict[str, Series], notes: list[str]
) -> None:
    cap, base = s["capture"], s["baseline"]
    complete = [f.get("complete") for f in cap.facts]
    missing = [i + 1 for i, f in enumerate(cap.facts) if "bytes" not in f]
    whole = bool(complete) and all(complete) and not missing
    if missing:
        notes.append(f"{label}: the hook wrote no snapshot in round(s) {missing}.")
    for i, f in enumerate(cap.facts):
        if f.get("left_out"):
            notes.append(
                f"{label}, round {i + 1}: the snapshot is incomplete; left out: "
                + "; ".join(f["left_out"][:3])
            )
    r = ratio(cap, base)
    section.rows.append(
        Row(
            f"capture {label}: hook on - hook off, vs `cloudpickle.dumps` + zstd -1 + fsync",
            cap.describe(),
            base.describe(),
            r.describe() + ("" if whole else " (snapshot incomplete)"),
            f"<= {TIME_RATIO}",
            r.median <= TIME_RATIO and whole,
        )
    )
    size, zsize = cap.fact_median("bytes"), base.fact_median("bytes")
    if size is not None and zsize:
        section.rows.append(
            Row(
                f"snapshot size, {label}, vs one zstd -1'd pickle",
                mib(size),
                mib(zsize),
                f"{size / zsize:.3f}" + ("" if whole else " (snapshot incomplete)"),
                f"<= {SIZE_RATIO}",
                size / zsize <= SIZE_RATIO and whole,
            )
        )
    peaks = cap.fact("peak_extra")
    if peaks:
        worst = max(peaks)
        limit = PEAK_FIXED + PEAK_SHARE * in_memory
        section.rows.append(
            Row(
                f"extra peak RSS of the worker, capture {label}",
                f"{mib(max(worst, 0))} (worst of {len(peaks)})",
                "-",
                f"{max(worst, 0) / in_memory:.1%} of the input ({mib(in_memory)} in memory)",
                f"<= 64 MiB + 5% = {mib(limit)}",
                worst <= limit,
            )
        )


def _detail(label: str, in_memory: int, s: dict[str, Series]) -> list[str]:
    cap, off, base = s["capture"], s["hook off"], s["baseline"]

    def size(x: float | None) -> str:
        return "-" if x is None else mib(x)

    peaks = (
        cap.fact_median("peak_extra"),
        off.fact_median("peak_extra"),
        base.fact_median("peak_extra"),
    )
    return [
        label,
        mib(in_memory),
        size(base.fact_median("pickle_bytes")),
        size(base.fact_median("bytes")),
        size(cap.fact_median("bytes")),
        seconds(off.median),
        " / ".join(size(max(p, 0)) if p is not None else "-" for p in peaks),
    ]


NOTES = [
    "Cluster: `LocalCluster(n_workers=1, threads_per_worker=1, processes=True)`; the "
    "input is made by a task on that worker and held as its result, as a real input "
    "is; the failing task depends on it and raises next to it. Capture time is "
    "measured in the worker process: from a `time.perf_counter()` taken on the line "
    "before the `raise` to the worker's transition of the task to `error` (a small "
    "`WorkerPlugin` of the benchmark notes it), with the hook on minus the same with "
    "the hook off, round by round: what the hook adds to a failing task on its "
    "worker (pickling, writing, fsync, rename, its checks).",
    "The hook is registered before its arm with `cluster_hook.register(client, "
    "max_per_fingerprint=1000000)` (every failure writes) and removed after it with "
    "`client.unregister_worker_plugin` (every worker plugin that `register` installed; "
    "what it installs on the scheduler and the nanny for worker deaths stays); a newly registered hook first captures one small "
    "failure of another function (not timed), as a worker that failed before has. Every "
    "other `snapshot.*` setting is the default. The first capture in a fresh worker "
    "is measured apart (section 'Capture per frame, first capture').",
    "Baseline, in the same worker, in the same rounds (the order rotates from round "
    "to round): a task that times `cloudpickle.dumps(x)` (protocol 5, in-band, one "
    "pickle), `zstandard.ZstdCompressor(level=1).compress` (python-zstandard, one "
    "thread), `os.write` and `os.fsync` of the result. Size: the snapshot file "
    "against that compressed pickle.",
    "Extra peak RSS: in the worker process, VmHWM after the task minus VmRSS just "
    "before it, VmHWM reset through `/proc/self/clear_refs` (Linux) right before the "
    "task; worst of the rounds. 'In memory' is the input's size as the worker holds "
    "it (`sys.getsizeof` over its objects, `nbytes`, pandas' `memory_usage(deep=True)`): "
    "the 5% is taken of that. In the full run each input gets a new cluster (a fresh "
    "worker process), so that no freed-but-resident memory of an earlier input hides the capture's.",
    "Before every contender the benchmark calls `os.sync()` (not timed); the hook and "
    "the baseline each write into a directory of their own and their files are deleted "
    "as soon as they are measured (this disk has two write speeds: see Capture).",
]
