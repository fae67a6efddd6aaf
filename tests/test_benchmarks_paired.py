"""The paired comparison's statistics on known data (no timing is measured here).

The success path's target is a ratio of 1.02 on a machine whose noise is larger
than that: the report's verdict rests on the median of the ABBA blocks' ratios
and the order-statistic confidence interval of that median, so both are checked
against values worked out by hand from the binomial distribution.
"""

from __future__ import annotations

import math

import pytest

from benchmarks._paired import (
    Interval,
    abba,
    block_ratios,
    coverage,
    median_interval,
    order_statistic_rank,
    pooled_slope,
)
from benchmarks._paired import verdict as paired_verdict


def test_coverage_is_the_binomial_probability_of_straddling_the_median() -> None:
    # [x(1), x(n)] misses the median only when all n values fall on one side.
    assert coverage(5, 1) == pytest.approx(1 - 2 / 32)
    # n=10, k=2: misses when at most one value is below (or above): 2 * 11/1024.
    assert coverage(10, 2) == pytest.approx(1 - 2 * 11 / 1024)


@pytest.mark.parametrize(
    ("n", "k"),
    # The textbook table of distribution-free 95% intervals for the median.
    [(6, 1), (8, 1), (9, 2), (10, 2), (11, 2), (12, 3), (20, 6), (30, 10), (40, 14)],
)
def test_rank_is_the_largest_with_at_least_95_percent(n: int, k: int) -> None:
    assert order_statistic_rank(n) == k
    assert coverage(n, k) >= 0.95
    assert k == (n + 1) // 2 or coverage(n, k + 1) < 0.95


def test_interval_of_known_values() -> None:
    values = [1.0 + i / 100 for i in range(30)]  # 1.00 .. 1.29
    shuffled = values[::7] + [v for i, v in enumerate(values) if i % 7]
    got = median_interval(shuffled)
    assert got.n == 30
    assert got.median == pytest.approx(1.145)
    # k=10 for n=30: the 10th and the 21st smallest.
    assert (got.low, got.high) == (pytest.approx(1.09), pytest.approx(1.20))
    assert got.width == pytest.approx(0.11)
    assert got.confidence == pytest.approx(1 - 2 * sum(math.comb(30, i) for i in range(10)) / 2**30)
    assert (got.smallest, got.largest) == (1.0, pytest.approx(1.29))
    assert got.describe() == "1.145 (95.7% CI 1.090-1.200, n=30 blocks; blocks 1.000-1.290)"


def test_outliers_move_neither_the_median_nor_the_interval() -> None:
    calm = [0.99, 1.0, 1.0, 1.01, 1.0, 0.995, 1.005, 1.0, 1.0, 1.0, 1.002, 0.998]
    # The two extreme blocks straddled a burst of load.
    stormy = [0.5, *calm[1:3], 3.0, *calm[4:]]
    a, b = median_interval(calm), median_interval(stormy)
    assert (a.low, a.high) == (b.low, b.high) == (0.998, 1.002)
    assert (b.smallest, b.largest) == (0.5, 3.0)


def test_too_few_values_give_the_whole_range_with_its_lower_coverage() -> None:
    got = median_interval([1.2, 0.9, 1.0])
    assert (got.low, got.median, got.high) == (0.9, 1.0, 1.2)
    assert got.confidence == pytest.approx(0.75)
    assert median_interval([]).describe() == "not measured"


def test_block_ratios_sum_each_arms_two_rounds() -> None:
    assert block_ratios([1.0, 3.0, 2.0, 2.0], [2.0, 2.0, 1.0, 1.0]) == [1.0, 2.0]
    # A block cut short (one round of each arm) gives no ratio.
    assert block_ratios([1.0, 3.0, 5.0], [2.0, 2.0, 5.0]) == [1.0]


def test_abba_runs_each_block_in_mirrored_order() -> None:
    calls: list[str] = []

    def arm(name: str, secs: float) -> tuple[str, object]:
        def run() -> tuple[float, dict[str, object]]:
            calls.append(name)
            return secs, {"n": len(calls)}

        return name, run

    out = abba(arm("A", 2.0), arm("B", 1.0), 3, warmup=1)  # type: ignore[arg-type]
    assert "".join(calls) == "AB" + "ABBA" + "BAAB" + "ABBA"
    assert out["A"].seconds == [2.0] * 6 and out["B"].seconds == [1.0] * 6
    assert block_ratios(out["A"].seconds, out["B"].seconds) == [2.0, 2.0, 2.0]
    # The facts stay with their rounds (warm-up rounds are not kept).
    assert out["A"].fact("n")[:2] == [3, 6]


def test_a_verdict_needs_a_ci_under_the_target_and_narrower_than_the_margin() -> None:
    def verdict(interval: Interval) -> tuple[bool, str]:
        return paired_verdict(interval, 1.02, 0.02)

    narrow = [1.000 + i / 1000 for i in range(12)]  # CI 1.002-1.009: width 0.007
    assert verdict(median_interval(narrow)) == (True, "CI's width 0.007 < 0.02")
    wide = [0.97 + i / 200 for i in range(12)]  # CI 0.98-1.015: under 1.02, width 0.035
    met, why = verdict(median_interval(wide))
    assert not met and why == "not met: CI's width 0.035 >= 0.02"
    high = [1.015 + i / 1000 for i in range(12)]  # CI 1.017-1.024
    met, why = verdict(median_interval(high))
    assert not met and why == "not met: CI's upper end 1.024 > 1.02"
    assert verdict(median_interval([])) == (False, "not measured")


def test_pooled_slope_is_shared_by_the_groups_and_ignores_their_offsets() -> None:
    # y = 2x + 10 in one group, y = 2x + 50 in the other: the common slope is 2,
    # whereas one line through all the points would mix the offset into it.
    a = ([1.0, 2.0, 4.0], [12.0, 14.0, 18.0])
    b = ([1.5, 2.5], [53.0, 55.0])
    assert pooled_slope([a, b]) == 2.0
    # The median of the pairwise slopes (1, 2 and 3 here).
    assert pooled_slope([([0.0, 1.0, 2.0], [0.0, 1.0, 4.0]), ([0.0, 1.0], [5.0, 7.0])]) == 2.0
    assert pooled_slope([([1.0], [3.0]), ([2.0, 2.0], [1.0, 5.0])]) == 0.0


def test_pooled_slope_is_not_moved_by_an_outlying_round() -> None:
    xs = [3.0, 3.2, 2.9, 3.4, 3.1, 3.3]
    ys = [2.0 * x + 7.0 for x in xs]
    ys[2] += 100.0  # the round that paid for something else
    assert pooled_slope([(xs, ys), (xs, [y + 1.0 for y in ys])]) == pytest.approx(2.0)
