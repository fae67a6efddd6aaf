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

from ._harness import alternate, ratio
from ._report import Row, Section
from ._workspace import Workspace

TARGET = 1.02
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
    return section
