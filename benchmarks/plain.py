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
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ._harness import alternate, ratio
from ._report import Row, Section
from ._workspace import Workspace

TARGET = 1.02
#: Calls counted under callgrind: the count for the larger minus the smaller, per call.
COUNTED = (1_000, 3_000)
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
    import snapshot

    section = Section("plain", "Plain-Python capture on success")
    rounds = 1 if ws.scale.smoke else 7
    for label, func, calls in (
        ("a trivial function (x + 1)", _trivial, 20_000 if ws.scale.smoke else 2_000_000),
        (
            "a function doing a small JSON parse and sum",
            _small_work,
            2_000 if ws.scale.smoke else 100_000,
        ),
    ):
        decorated = snapshot.capture(directory=str(ws.fresh_dir("plain")))(func)
        s = alternate(
            {
                "decorated": functools.partial(_loop, decorated, calls),
                "plain": functools.partial(_loop, func, calls),
            },
            rounds,
            warmup=1,
            progress=lambda m: ws.log(f"plain: {m}"),
        )
        r = ratio(s["decorated"], s["plain"])
        per_call = (s["decorated"].median - s["plain"].median) / calls * 1e9
        trivial = func is _trivial
        section.rows.append(
            Row(
                f"{calls:,} calls of {label}, `@snapshot.capture` on and off",
                s["decorated"].describe(),
                s["plain"].describe(),
                r.describe(),
                "" if trivial else f"<= {TARGET}",
                None if trivial else r.median <= TARGET,
            )
        )
        section.notes.append(f"{label}: {per_call:+.0f} ns per call (difference of the medians).")
    section.notes.append(
        "Both loops run in this process, the decorated and the plain function in alternating "
        "order each round; the trivial function's row is reported, not judged: its whole body "
        "costs less than the extra call."
    )
    _instruction_row(section, ws)
    return section


_CHILD = (
    "import sys, snapshot, benchmarks.plain as p\n"
    "f = p._small_work\n"
    "if sys.argv[1] == 'on': f = snapshot.capture(directory=sys.argv[3])(f)\n"
    "for i in range(int(sys.argv[2])): f(i)\n"
)


def _instructions(on: bool, calls: int, directory: str) -> int:
    """Instructions a child executes, start to exit, under ``valgrind --tool=callgrind``."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _CHILD,
            "on" if on else "off",
            str(calls),
            directory,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind reported no count: {done.stderr[-500:]}")
    return int(found.group(1))


def _instruction_row(section: Section, ws: Workspace) -> None:
    """The decorator's cost per call as counted instructions: other processes change
    the wall clock of a shared machine by more than 2%, and this count not at all."""
    label = (
        "instructions per call of the small JSON parse and sum, `@snapshot.capture` on "
        "over off (valgrind's callgrind)"
    )
    if ws.scale.smoke or shutil.which("valgrind") is None:
        why = "a smoke run" if ws.scale.smoke else "valgrind is not installed"
        section.rows.append(Row(label, f"not measured: {why}", "-", "-"))
        return
    directory = str(ws.fresh_dir("plain-callgrind"))
    low, high = COUNTED
    per_call = {}
    for on in (True, False):
        counts = [_instructions(on, n, directory) for n in COUNTED]
        per_call[on] = (counts[1] - counts[0]) / (high - low)
    r = per_call[True] / per_call[False]
    section.rows.append(
        Row(
            label,
            f"{per_call[True]:,.0f}",
            f"{per_call[False]:,.0f}",
            f"{r:.3f}",
            f"<= {TARGET}",
            r <= TARGET,
        )
    )
    section.notes.append(
        f"Instructions: each function runs {low:,} and {high:,} times in a child process "
        "under `valgrind --tool=callgrind` (PYTHONHASHSEED=0); the difference of the two "
        f"counts over {high - low:,} calls is the count per call, start-up and imports "
        "cancelled out. A count is the same on a busy machine as on a quiet one; it weighs "
        "every instruction alike (a cache miss counts as one)."
    )
