"""What a capture costs per frame, and what the first capture of a fresh worker adds.

Same one-worker cluster and clock as ``capture_inband`` (see ``_hooked``): the
hook on minus the hook off, measured in the worker from the raise to the task's
``error`` transition.

* Per frame: a task raises 10, 100 and 900 frames down, each frame holding 5
  small locals (the frames' locals are captured by default).  Target: each
  further frame costs at most 50 us, and the cost is linear (the slope from 10
  to 100 frames and the one from 100 to 900 both within it).
* First capture: a worker in a new cluster fails twice in a row (a task has
  run on it first, so distributed itself is warm); the first capture's extra
  cost over the second is the hook's cold start (imports, caches), net of
  distributed's own first-failure cost (the same two failures with the hook off,
  in a new cluster too).  Target: at most 50 ms.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from . import _inworker
from ._harness import Series, alternate, seconds
from ._hooked import HookedWorker, hooked_worker
from ._report import Row, Section
from ._workspace import Workspace

DEPTHS = (10, 100, 900)
PER_FRAME = 50e-6  # seconds per further frame
FIRST_OVER = 0.050  # seconds: first capture over a warm one


def run(ws: Workspace) -> Section:
    section = Section("capture_frames", "Capture per frame, first capture")
    work = ws.fresh_dir("capture-frames")
    with hooked_worker(work / "snapshots", _timeout(ws)) as hw:
        ws.log("capture per frame: depths " + ", ".join(map(str, DEPTHS)))
        depth = _per_frame(ws, hw)
    ws.log("first capture in a fresh worker")
    first = _first_capture(ws, work)
    _frame_rows(section, depth)
    _first_rows(section, first)
    section.notes += [
        "Cluster, clock and toggling as in 'Capture of in-band data, on a worker': "
        "`LocalCluster(n_workers=1, threads_per_worker=1, processes=True)`, time from the "
        "line before the `raise` to the worker's `error` transition, measured in the "
        "worker, hook on minus hook off round by round.",
        f"Per frame: the task calls a function that recurses to depth {', '.join(map(str, DEPTHS))} "
        "and raises at the bottom; each recursive frame has 5 locals (an int, an int, a short "
        "str, a float, a 2-tuple). All depths and both arms alternate within each round. "
        "'Per further frame' is the difference of the median captures over the difference "
        "of depths. The CPU rows take the same difference of the worker process's CPU time "
        "(`time.process_time()`, every thread: the task's, the capture's, the event loop's) "
        "over the same span, hook on minus hook off: other processes on a shared machine "
        "lengthen the wall clock but not this.",
        "Past 256 frames the two ints are new objects in every frame (CPython caches -5 to "
        "256); equal plain scalars are stored as one piece (spec, rules for writers, 6). "
        "`python scripts/count_frame_instructions.py` counts the instructions of the same "
        "captures per further frame in a plain process (valgrind's callgrind), a figure a "
        "busy machine does not move.",
        "With or without the hook, a client cannot take in the error of a task that failed "
        "900 frames down: distributed 2026.8's `clean_exception` asserts on the traceback "
        "it unpickles (`distributed.client` logs an `AssertionError`) and the future never "
        "resolves. So the benchmark waits for the worker's own `error` transition, asked "
        "of the worker with `client.run`.",
        "First capture: each arm of each round starts a new one-worker cluster (not timed), "
        "registers the hook (hook arm; no warm-up failure), runs one succeeding task, then "
        "two failing ones with a small input. The row's figure is (first - second with "
        "the hook) - (first - second without it), medians over the rounds.",
    ]
    return section


def _timeout(ws: Workspace) -> float:
    return 60 if ws.scale.smoke else 900


def _per_frame(ws: Workspace, hw: HookedWorker) -> dict[str, Series]:
    contenders = {}
    for d in DEPTHS:
        for on in (True, False):

            def once(d: int = d, on: bool = on) -> tuple[float, dict[str, float]]:
                hw.hook(on)
                failure = hw.fail(_inworker.fail_deep, d, sync=False)
                if on and failure.snapshot is None:
                    raise RuntimeError(f"no snapshot at depth {d}")
                if failure.snapshot is not None:
                    failure.snapshot.unlink()
                return failure.seconds, {"cpu": failure.cpu}

            contenders[f"{d} {'on' if on else 'off'}"] = once
    series = alternate(
        contenders,
        ws.scale.frame_rounds,
        warmup=ws.scale.warmup,
        progress=lambda m: ws.log(f"capture per frame: {m}"),
    )
    hw.hook(False)
    out: dict[str, Series] = {}
    for d in DEPTHS:
        hooked, plain = series[f"{d} on"], series[f"{d} off"]
        out[str(d)] = Series(
            f"depth {d}", [a - b for a, b in zip(hooked.seconds, plain.seconds, strict=True)]
        )
        out[f"{d} cpu"] = Series(
            f"depth {d}, CPU",
            [a - b for a, b in zip(hooked.fact("cpu"), plain.fact("cpu"), strict=True)],
        )
    return out


def _frame_rows(section: Section, s: dict[str, Series]) -> None:
    for d in DEPTHS:
        section.rows.append(
            Row(
                f"capture, a task raising {d} frames down",
                s[str(d)].describe(),
                f"CPU of the worker: {s[f'{d} cpu'].describe()}",
                "-",
            )
        )
    for low, high in itertools.pairwise(DEPTHS):
        slope = (s[str(high)].median - s[str(low)].median) / (high - low)
        cpu = (s[f"{high} cpu"].median - s[f"{low} cpu"].median) / (high - low)
        section.rows.append(
            Row(
                f"capture per further frame, {low} to {high} frames",
                f"{slope * 1e6:.1f} us",
                "-",
                f"{slope / PER_FRAME:.2f} of the target",
                f"<= {PER_FRAME * 1e6:.0f} us",
                slope <= PER_FRAME,
            )
        )
        section.rows.append(
            Row(
                f"CPU time of the worker per further frame, {low} to {high} frames "
                "(all its threads; a busy machine stretches the wall clock, not this)",
                f"{cpu * 1e6:.1f} us",
                "-",
                f"{cpu / PER_FRAME:.2f} of the target",
            )
        )


def _first_capture(ws: Workspace, work: Path) -> dict[str, Series]:
    def arm(on: bool) -> tuple[float, dict[str, float]]:
        # A new cluster per arm and round: a worker process that has failed no task yet.
        with hooked_worker(work / "first", _timeout(ws)) as hw:
            hw.hook(on, warm=False)
            hw.client.submit(_inworker.make_input, "bytes", 16, pure=False).result(hw.timeout)
            times = []
            for _ in range(2):
                failure = hw.fail(_inworker.fail_with, list(range(100)), sync=False)
                if on and failure.snapshot is None:
                    raise RuntimeError("the fresh worker wrote no snapshot")
                if failure.snapshot is not None:
                    failure.snapshot.unlink()
                times.append(failure.seconds)
        first, second = times
        return first - second, {"first": first, "second": second}

    series = alternate(
        {"hook on": lambda: arm(True), "hook off": lambda: arm(False)},
        ws.scale.first_capture_rounds,
        progress=lambda m: ws.log(f"first capture: {m}"),
    )
    return series


def _first_rows(section: Section, s: dict[str, Series]) -> None:
    on, off = s["hook on"], s["hook off"]
    extra = on.median - off.median
    first, second = on.fact_median("first"), on.fact_median("second")
    off_first = off.fact_median("first")
    section.rows.append(
        Row(
            "first capture in a fresh worker, over a warm one (net of distributed's own "
            "first failure)",
            seconds(extra),
            f"hook on: first {seconds(first or 0)}, second {seconds(second or 0)}; "
            f"hook off: first {seconds(off_first or 0)}, second "
            f"{seconds(off.fact_median('second') or 0)}",
            f"{extra / FIRST_OVER:.2f} of the target",
            f"<= {FIRST_OVER * 1000:.0f} ms",
            extra <= FIRST_OVER,
        )
    )
