"""Paired comparison of two contenders whose difference is far below the machine's noise.

A shared machine's speed drifts by several percent over seconds (someone's test
run starts, stops).  Long rounds of A then B carry that drift into their ratio.
Here the two arms run in short ABBA blocks (A B B A, then B A A B, ...): within a
block, a drift that is linear in time lands equally on both arms.  Each block
gives one ratio, sum(A) / sum(B); the estimate is the median of the blocks'
ratios, with a distribution-free confidence interval of that median from the
order statistics (no assumption on how the noise is distributed; a block that
straddled a burst of load is an outlier the median ignores).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._harness import Contender, Series, seconds
from ._report import Row

#: The order of the two arms in a block; the next block swaps the arms.
BLOCK = (0, 1, 1, 0)


@dataclass(frozen=True)
class Interval:
    """The median of some values with a confidence interval of that median."""

    median: float
    low: float
    high: float
    n: int
    #: The interval's exact coverage (at least the level asked for, when n allows it).
    confidence: float
    #: The range of the values themselves.
    smallest: float
    largest: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def describe(self, unit: str = "blocks") -> str:
        """``1.003 (95.7% CI 0.995-1.011, n=30 blocks; blocks 0.950-1.060)``."""
        if self.n == 0:
            return "not measured"
        return (
            f"{self.median:.3f} ({self.confidence:.1%} CI {self.low:.3f}-{self.high:.3f}, "
            f"n={self.n} {unit}; {unit} {self.smallest:.3f}-{self.largest:.3f})"
        )


def median_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """The median of ``values`` and the order-statistic confidence interval of it.

    The interval is ``[x(k), x(n+1-k)]`` of the sorted values, with the largest k
    whose coverage ``1 - 2 P(Binomial(n, 1/2) < k)`` is at least ``level``: exact
    for any continuous distribution of independent values.  Below 6 values no
    interval reaches 95%; then it is the whole range, with its (lower) coverage.
    """
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, 0, 0.0, nan, nan)
    k = order_statistic_rank(n, level)
    return Interval(statistics.median(xs), xs[k - 1], xs[n - k], n, coverage(n, k), xs[0], xs[-1])


def verdict(interval: Interval, target: float, margin: float) -> tuple[bool, str]:
    """Met only when the interval lies under ``target`` and is narrower than ``margin``
    (an interval wider than the margin cannot tell the target from no cost at all)."""
    if interval.n == 0:
        return False, "not measured"
    wrong = []
    if interval.high > target:
        wrong.append(f"CI's upper end {interval.high:.3f} > {target}")
    if interval.width >= margin:
        wrong.append(f"CI's width {interval.width:.3f} >= {margin}")
    if wrong:
        return False, "not met: " + " and ".join(wrong)
    return True, f"CI's width {interval.width:.3f} < {margin}"


def interval_row(
    label: str,
    ours: str,
    base: str,
    interval: Interval,
    target: float,
    margin: float,
    *,
    judged: bool = True,
) -> Row:
    """A report row whose ratio is a median with its interval: held to ``target`` by
    :func:`verdict`, or (``judged=False``) reported beside it, saying why it cannot tell."""
    met, why = verdict(interval, target, margin)
    if not judged:
        why = why.removeprefix("not met: ")
        why = f"{why}: cannot tell {target} from 1.00" if not met else why
    return Row(
        label,
        ours,
        base,
        f"{interval.describe()}; {why}",
        f"<= {target}, CI width < {margin}" if judged else "",
        met if judged else None,
    )


def coverage(n: int, k: int) -> float:
    """Probability that ``[x(k), x(n+1-k)]`` of n independent values holds their median."""
    below = sum(math.comb(n, i) for i in range(k)) / 2**n
    return 1.0 - 2.0 * below


def order_statistic_rank(n: int, level: float = 0.95) -> int:
    """The largest k (1-based) such that ``[x(k), x(n+1-k)]`` covers the median with
    probability at least ``level``; 1 (the whole range) when no k reaches it."""
    k = 1
    while k + 1 <= (n + 1) // 2 and coverage(n, k + 1) >= level:
        k += 1
    return k


def pooled_slope(groups: Sequence[tuple[Sequence[float], Sequence[float]]]) -> float:
    """The slope of y on x shared by every group, each with its own intercept: the
    median of the slopes between every two points of the same group (Theil-Sen,
    pooled over the groups), so that a few outlying points do not move it; 0.0
    when no group has two different x.

    ``groups`` are ``(xs, ys)`` pairs: here, one per arm, the rounds' seconds and
    their counts, so that the counts' part that grows with a round's wall time is
    estimated from the rounds themselves, apart from what differs between arms.
    """
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for xs, ys in groups
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
        if xs[j] != xs[i]
    ]
    return statistics.median(slopes) if slopes else 0.0


def block_ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """One ratio per block: the sum of A's two rounds over the sum of B's two rounds.

    ``a`` and ``b`` are the rounds in the order :func:`abba` ran them (two per block).
    """
    out = []
    for i in range(0, min(len(a), len(b)) - 1, 2):
        base = b[i] + b[i + 1]
        if base > 0:
            out.append((a[i] + a[i + 1]) / base)
    return out


def abba(
    a: tuple[str, Contender],
    b: tuple[str, Contender],
    blocks: int,
    *,
    warmup: int = 1,
    budget: float | None = None,
    progress: Callable[[str], None] | None = None,
    shown: Callable[[float], str] = seconds,
) -> dict[str, Series]:
    """Run ``blocks`` blocks of A B B A / B A A B (alternately); keep each arm's rounds.

    ``warmup`` uncounted rounds of each arm run first.  With ``budget`` (seconds,
    counted from the first counted block), no new block starts once that much time
    has passed and at least 6 blocks were counted (fewer blocks than asked: the
    report's n says how many).  Each Series holds two rounds per block, in order;
    ``shown`` formats a round's figure for ``progress`` (seconds by default).
    """
    arms = (a, b)
    out = {name: Series(name) for name, _ in arms}
    for _ in range(warmup):
        for _name, run in arms:
            _once(run)
    started = time.perf_counter()
    for index in range(blocks):
        if budget is not None and index >= 6 and time.perf_counter() - started > budget:
            break
        order = BLOCK if index % 2 == 0 else tuple(1 - i for i in BLOCK)
        for arm in order:
            name, run = arms[arm]
            secs, facts = _once(run)
            out[name].seconds.append(secs)
            out[name].facts.append(facts)
        if progress is not None:
            ratios = block_ratios(out[a[0]].seconds[-2:], out[b[0]].seconds[-2:])
            ratio = f"{ratios[0]:.3f}" if ratios else "-"
            progress(
                f"block {index + 1}/{blocks}: {a[0]} {shown(sum(out[a[0]].seconds[-2:]))}, "
                f"{b[0]} {shown(sum(out[b[0]].seconds[-2:]))}: ratio {ratio}"
            )
    return out


def _once(run: Contender) -> tuple[float, dict[str, object]]:
    result = run()
    return result if isinstance(result, tuple) else (result, {})
