"""How sure a change between two sets of repetitions is: the two-sided
Mann-Whitney U test (exact for small samples without ties), and the
Hodges-Lehmann distribution-free confidence interval of the ratio
new/base, the two read off the same U distribution so they always agree
(the interval excludes 1 exactly when the exact test rejects).

Repetitions are independent runs; the seconds of one run are not (a slow
second is followed by a slow second), which is why compare never feeds
them to these functions.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

EXACT_PAIRS = 900  # n1 * n2 up to which the U distribution is counted exactly (30 runs a side)


@dataclass(frozen=True)
class Shift:
    """The interval of new/base as a relative change, in percent, and the test's p-value."""

    low: float
    high: float
    p_value: float


def min_p_value(n1: int, n2: int) -> float:
    """The smallest two-sided p-value samples of these sizes can reach: a
    test that cannot reach alpha cannot judge."""
    if n1 == 0 or n2 == 0:
        return 1.0
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def shift(base: Sequence[float], new: Sequence[float], alpha: float) -> Shift | None:
    """The 1 - alpha interval of new/base from the sorted pairwise ratios
    (Hodges-Lehmann), and the test's p-value; None when the samples are too
    few to reach alpha or hold a value <= 0."""
    n1, n2 = len(base), len(new)
    if min_p_value(n1, n2) >= alpha or min(min(base), min(new)) <= 0:
        return None
    ratios = sorted(math.log(b) - math.log(a) for a in base for b in new)
    k = _rank_of_bound(n1, n2, alpha)
    if k == 0:
        return None
    low, high = ((math.exp(r) - 1) * 100 for r in (ratios[k - 1], ratios[len(ratios) - k]))
    return Shift(low, high, p_value(base, new))


def p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value: exact when there are no ties and
    the samples are small, else the normal approximation."""
    n1, n2 = len(a), len(b)
    if n1 * n2 > EXACT_PAIRS or len(set(a) | set(b)) < n1 + n2:
        return mann_whitney_p(a, b)
    u = sum(1 for x in a for y in b if x > y)
    counts = _u_counts(n1, n2)
    total = sum(counts)
    lower, upper = sum(counts[: u + 1]) / total, sum(counts[u:]) / total
    return min(1.0, 2 * min(lower, upper))


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test: the normal approximation
    with tie and continuity corrections (as scipy's asymptotic method)."""
    n1, n2 = len(a), len(b)
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    n = n1 + n2
    rank_sum_a, ties, i = 0.0, 0.0, 0
    while i < n:
        j = i
        while j + 1 < n and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        average_rank = (i + j) / 2 + 1
        rank_sum_a += average_rank * sum(1 for k in range(i, j + 1) if pooled[k][1] == 0)
        tied = j - i + 1
        ties += tied**3 - tied
        i = j + 1
    u = rank_sum_a - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:  # every value equal
        return 1.0
    z = max(abs(u - mean) - 0.5, 0.0) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))


def noise(values: Sequence[float]) -> float | None:
    """The spread within one side: standard deviation over mean, in percent."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean * 100 if mean else None


def _rank_of_bound(n1: int, n2: int, alpha: float) -> int:
    """k such that the k-th smallest and k-th largest pairwise differences
    bound the 1 - alpha interval: the largest k with P(U < k) <= alpha / 2."""
    if n1 * n2 > EXACT_PAIRS:
        z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
        return max(0, math.floor(n1 * n2 / 2 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)))
    counts = _u_counts(n1, n2)
    total, below, k = sum(counts), 0, 0
    while (below + counts[k]) / total <= alpha / 2:
        below += counts[k]
        k += 1
    return k


@lru_cache(maxsize=None)
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """How many orderings of n1 + n2 distinct values give U = 0, 1, ..., n1 * n2."""
    if n1 == 0 or n2 == 0:
        return (1,)
    # The largest value is either from the first sample (adding n2 to U) or not.
    with_first, without = _u_counts(n1 - 1, n2), _u_counts(n1, n2 - 1)
    counts = [0] * (n1 * n2 + 1)
    for u, count in enumerate(with_first):
        counts[u + n2] += count
    for u, count in enumerate(without):
        counts[u] += count
    return tuple(counts)

