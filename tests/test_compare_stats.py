"""The statistics behind `logstorm compare`: the exact Mann-Whitney U test,
the Hodges-Lehmann interval, and what they make of pure noise, checked
against brute force over every ordering and against scipy's values."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from harness.report.compare import BY_NAME, SAME, UNJUDGED, Check, judge
from harness.report.significance import mann_whitney_p, min_p_value, noise, p_value, shift


def brute_force_p(a: list[float], b: list[float]) -> float:
    """Two-sided exact p: the share of all splits of the pooled values whose
    U is at least as far from its mean as the observed one."""
    pooled, n1 = a + b, len(a)

    def u(first: tuple[float, ...]) -> float:
        rest = [x for x in pooled if x not in first]
        return sum(1 for x in first for y in rest if x > y)

    mean = n1 * len(b) / 2
    observed = abs(u(tuple(a)) - mean)
    splits = list(itertools.combinations(pooled, n1))
    return sum(1 for split in splits if abs(u(split) - mean) >= observed - 1e-9) / len(splits)


@pytest.mark.parametrize("a, b", [
    ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]),
    ([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]),
    ([10.5, 11.2, 9.8, 10.1, 12.0], [9.1, 9.9, 8.7, 10.3, 9.5]),
    ([3.1, 2.2, 5.7, 4.4], [1.1, 0.5, 2.9, 0.7, 1.8, 6.1]),
])
def test_the_exact_p_value_matches_brute_force(a, b):
    assert p_value(a, b) == pytest.approx(brute_force_p(a, b), abs=1e-12)


def test_five_against_five_fully_apart_is_the_smallest_p():
    assert p_value([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert min_p_value(5, 5) == pytest.approx(2 / 252)


@pytest.mark.parametrize("n1, n2, judged", [(1, 1, False), (1, 20, False), (2, 2, False), (3, 3, False),
                                            (3, 4, False), (3, 5, True), (4, 4, True), (5, 5, True)])
def test_too_few_runs_cannot_be_judged(n1, n2, judged):
    base, new = [100.0 + i for i in range(n1)], [50.0 + i for i in range(n2)]
    assert (shift(base, new, 0.05) is not None) == judged


@pytest.mark.parametrize("a, b, p", [
    # Reference values: scipy.stats.mannwhitneyu(a, b, method="asymptotic").pvalue
    ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 0.012185780355344813),
    ([4, 0, 3, 3, 1, 2, 2, 2, 0, 4, 0, 4], [5, 3, 2, 6, 4, 2, 2, 5, 1], 0.14777936036775763),  # with ties
    ([3, 3, 3, 3, 3], [3, 3, 3, 3, 3], 1.0),
])
def test_the_normal_approximation_matches_the_reference(a, b, p):
    assert mann_whitney_p(a, b) == pytest.approx(p, rel=1e-9)


def test_the_interval_is_read_off_the_pairwise_ratios():
    """5 against 5 at 95 %: the 3rd smallest and 3rd largest of the 25
    ratios (P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252)."""
    base, new = [100, 104, 98, 101, 97], [90, 95, 88, 93, 99]
    ratios = sorted(b / a for a in base for b in new)
    found = shift(base, new, 0.05)
    assert found.low == pytest.approx((ratios[2] - 1) * 100)
    assert found.high == pytest.approx((ratios[22] - 1) * 100)


def test_the_interval_excludes_no_change_exactly_when_the_test_rejects():
    rng = random.Random(11)
    for _ in range(300):
        base = [rng.lognormvariate(0, 0.1) for _ in range(5)]
        new = [rng.lognormvariate(rng.choice((0, 0.1, 0.2)), 0.1) for _ in range(5)]
        found = shift(base, new, 0.05)
        assert (found.low > 0 or found.high < 0) == (found.p_value < 0.05)


def test_noise_is_the_spread_within_one_side():
    assert noise([100, 100, 100]) == 0
    assert noise([90, 110]) == pytest.approx(math.sqrt(200) / 100 * 100)
    assert noise([100]) is None


def test_pure_noise_is_almost_never_judged_a_change():
    """Five runs a side drawn from one distribution, 10 % noise, threshold
    5 %: a verdict needs the whole interval beyond 5 %, so far fewer than
    the test's 5 % come out better or worse."""
    rng = random.Random(5)
    check = Check("throughput", 5.0, True)
    trials = 2000
    changes = 0
    for _ in range(trials):
        base = [rng.lognormvariate(math.log(1e5), 0.1) for _ in range(5)]
        new = [rng.lognormvariate(math.log(1e5), 0.1) for _ in range(5)]
        changes += judge("null", "throughput", BY_NAME["throughput"], check, base, new).verdict != SAME
    assert changes / trials < 0.01, changes


def test_a_real_change_is_caught_through_the_noise():
    rng = random.Random(6)
    check = Check("throughput", 5.0, True)
    caught = 0
    for _ in range(200):
        base = [rng.lognormvariate(math.log(1e5), 0.05) for _ in range(5)]
        new = [rng.lognormvariate(math.log(7e4), 0.05) for _ in range(5)]
        caught += judge("null", "throughput", BY_NAME["throughput"], check, base, new).verdict == "worse"
    assert caught / 200 > 0.95, caught


def test_one_run_a_side_shows_the_change_only():
    row = judge("null", "throughput", BY_NAME["throughput"], Check("throughput", 5.0, True), [100.0], [50.0])
    assert (row.verdict, row.change, row.p_value, row.low) == (UNJUDGED, -50.0, None, None)
