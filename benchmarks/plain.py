"""Plain-Python capture on success: ``@snapshot.capture`` around a call that does not fail.

The decorator's promise is that it costs nothing measurable on success: one
``try`` block and one extra call.  Two functions are timed, each called in a
loop in this process, decorated and not, in alternating rounds: a trivial one
(the overhead in nanoseconds per call, its worst case) and one doing a few
microseconds of work (a small JSON parse and sum: less than a function worth
sending to a process pool does), where the target applies.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from . import _callgrind
from ._harness import alternate, ratio
from ._paired import abba, block_ratios, interval_row, median_interval
from ._report import Row, Section
from ._workspace import Workspace

TARGET = 1.02
#: The target's margin over 1: the judged row's interval must be narrower.
MARGIN = 0.02
#: The judged row: rounds of this many calls (~60 ms), in ABBA blocks, within a budget.
WORK_CALLS = 10_000
WORK_BLOCKS = 100
WORK_BUDGET = 30.0
#: Calls counted under callgrind: the count for the larger minus the smaller, per call.
COUNTED = (1_000, 3_000)
TRIVIAL_CALLS = (20_000, 60_000)
_PAYLOAD = json.dumps({"rows": list(range(100))})


def _trivial(x: int) -> int:
    return x + 1


def _small_work(x: int) -> int:
    return sum(json.loads(_PAYLOAD)["rows"]) + x


def _loop(func: Callable[[int], Any], calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        func(i)
    return time.perf_counter() - start


def run(ws: Workspace) -> Section:
    section = Section("plain", "Plain-Python capture on success")
    _trivial_row(section, ws)
    _work_row(section, ws)
    section.notes.append(
        "Both loops run in this process; the trivial function's row is reported, not judged: "
        "its whole body costs less than the extra call."
    )
    _instruction_row(section, ws)
    return section


def _trivial_row(section: Section, ws: Workspace) -> None:
    """The decorator's own cost in nanoseconds, on a function that does nothing."""
    import snapshot

    calls = 20_000 if ws.scale.smoke else 2_000_000
    decorated = snapshot.capture(directory=str(ws.fresh_dir("plain")))(_trivial)
    s = alternate(
        {
            "decorated": functools.partial(_loop, decorated, calls),
            "plain": functools.partial(_loop, _trivial, calls),
        },
        1 if ws.scale.smoke else 7,
        warmup=1,
        progress=lambda m: ws.log(f"plain: {m}"),
    )
    per_call = (s["decorated"].median - s["plain"].median) / calls * 1e9
    section.rows.append(
        Row(
            f"{calls:,} calls of a trivial function (x + 1), `@snapshot.capture` on and off",
            s["decorated"].describe(),
            s["plain"].describe(),
            ratio(s["decorated"], s["plain"]).describe(),
        )
    )
    section.notes.append(
        f"a trivial function (x + 1): {per_call:+.0f} ns per call (difference of the medians), "
        "in alternating rounds, the first one switching each round."
    )


def _work_row(section: Section, ws: Workspace) -> None:
    """The target's row: many short ABBA blocks, the median block ratio and its interval."""
    import snapshot

    calls = 2_000 if ws.scale.smoke else WORK_CALLS
    decorated = snapshot.capture(directory=str(ws.fresh_dir("plain")))(_small_work)
    s = abba(
        ("decorated", functools.partial(_loop, decorated, calls)),
        ("plain", functools.partial(_loop, _small_work, calls)),
        6 if ws.scale.smoke else WORK_BLOCKS,
        warmup=1,
        budget=None if ws.scale.smoke else WORK_BUDGET,
        progress=lambda m: ws.log(f"plain: {m}"),
    )
    on, off = s["decorated"], s["plain"]
    interval = median_interval(block_ratios(on.seconds, off.seconds))
    section.rows.append(
        interval_row(
            f"{calls:,} calls of a function doing a small JSON parse and sum a round, "
            "`@snapshot.capture` on and off",
            on.describe(),
            off.describe(),
            interval,
            TARGET,
            MARGIN,
        )
    )
    per_call = (on.median - off.median) / calls * 1e9
    section.notes.append(
        f"a function doing a small JSON parse and sum: {per_call:+.0f} ns per call (difference "
        f"of the medians). Rounds of {calls:,} calls run in ABBA blocks (decorated, plain, "
        "plain, decorated; the next block mirrored), at most "
        f"{WORK_BLOCKS} blocks or {WORK_BUDGET:.0f} s; each block's ratio is its decorated "
        "rounds' sum over its plain rounds' sum, the estimate their median with its "
        "distribution-free 95% confidence interval (order statistics, benchmarks/_paired.py, "
        "as in Success path): met only when the interval lies under the target and is "
        f"narrower than {MARGIN}."
    )


_CHILD = (
    "import sys, snapshot, benchmarks.plain as p\n"
    "f = p._small_work if sys.argv[1] == 'work' else p._trivial\n"
    "if sys.argv[2] == 'on': f = snapshot.capture(directory=sys.argv[3])(f)\n"
    "for i in range(int(sys.argv[4])): f(i)\n"
)


def _per_call(func: str, on: bool, calls: tuple[int, int], directory: str) -> float:
    low, high = calls
    return _callgrind.per_iteration(_CHILD, low, high, func, "on" if on else "off", directory)


def _instruction_row(section: Section, ws: Workspace) -> None:
    """The decorator's cost per call as counted instructions: other processes change
    the wall clock of a shared machine by more than 2%, and this count not at all."""
    label = (
        "instructions per call of the small JSON parse and sum, `@snapshot.capture` on "
        "over off (valgrind's callgrind)"
    )
    if ws.scale.smoke or not _callgrind.available():
        why = "a smoke run" if ws.scale.smoke else "valgrind is not installed"
        section.rows.append(Row(label, f"not measured: {why}", "-", "-"))
        return
    directory = str(ws.fresh_dir("plain-callgrind"))
    # The decorator's own cost, on the trivial function: a count with little noise
    # (the small work allocates, and its count moves by a few thousand a call).
    extra = _per_call("trivial", True, TRIVIAL_CALLS, directory) - _per_call(
        "trivial", False, TRIVIAL_CALLS, directory
    )
    work = _per_call("work", False, COUNTED, directory)
    r = (work + extra) / work
    section.rows.append(
        Row(
            label,
            f"{work + extra:,.0f}",
            f"{work:,.0f}",
            f"{r:.3f}",
            f"<= {TARGET}",
            r <= TARGET,
        )
    )
    low, high = COUNTED
    section.notes.append(
        "Instructions: the decorator's own count per call is that of the trivial function "
        f"decorated minus plain ({extra:+,.0f}), each run {TRIVIAL_CALLS[0]:,} and "
        f"{TRIVIAL_CALLS[1]:,} times in a child process under `valgrind --tool=callgrind` "
        "(PYTHONHASHSEED=0, one BLAS thread: counts repeat exactly), the difference of the two counts over the difference of calls "
        "(start-up and imports cancelled out); the small JSON parse and sum's own count is "
        f"measured the same way ({low:,} and {high:,} calls), and the ratio is its count "
        "plus the decorator's over its count. A count is the same on a busy machine as on "
        "a quiet one; it weighs every instruction alike (a cache miss counts as one)."
    )
