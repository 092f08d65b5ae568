"""A back end that fails in bursts, and monitors that poll on a clock: the
two parts of the traffic that depend on where a line falls in the run,
both pure functions of the line number (so any process renders any batch
the same way).

Incidents: every PERIOD lines, one window of a few thousand lines (seconds
at the simulated clock's 1,000 lines/s) in which the catalogue back end
answers a share of page and API requests with 502, 503 or 504. Its start,
length and failing share come from the seed and the period's number.
Outside the windows a 5xx is rare (a failed write now and then).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from generators.site import CLASS

PERIOD = 100_000  # lines
LENGTH = (1_500, 4_000)  # lines an incident lasts
FAILING = (0.3, 0.7)  # share of the affected requests that fail during one
AFFECTED = np.zeros(64, bool)
AFFECTED[[CLASS["page"], CLASS["api_read"], CLASS["api_write"]]] = True


@lru_cache(maxsize=64)
def incident(seed: int, period: int) -> tuple[int, int, float]:
    """(first line, line count, failing share) of period `period`'s incident."""
    rng = np.random.default_rng([seed, 0x1AC1, period])
    length = int(rng.integers(*LENGTH))
    return period * PERIOD + int(rng.integers(0, PERIOD - length)), length, float(rng.uniform(*FAILING))


def failing(seed: int, first_line: int, n: int, kind: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Rows of lines first_line .. first_line+n-1 whose request fails in an
    incident: `kind` is each row's request class, `draw` a uniform 16-bit
    integer per row."""
    rows = []
    for period in range(first_line // PERIOD, (first_line + n - 1) // PERIOD + 1):
        start, length, share = incident(seed, period)
        lo, hi = max(start - first_line, 0), min(start + length - first_line, n)
        if lo < hi:
            rows.append(lo + np.flatnonzero((draw[lo:hi] < share * 65536) & AFFECTED[kind[lo:hi]]))
    return np.concatenate(rows) if rows else np.empty(0, np.int64)


def polls(first_line: int, n: int, interval_lines: float, phase: float) -> np.ndarray:
    """Rows of lines first_line .. first_line+n-1 on which a monitor polling
    every `interval_lines` lines (from line `phase`) asks."""
    first = np.ceil((first_line - phase) / interval_lines)
    last = np.floor((first_line + n - 1 - phase) / interval_lines)
    if last < first:
        return np.empty(0, np.int64)
    lines = np.floor(phase + np.arange(first, last + 1) * interval_lines).astype(np.int64)
    return lines[(lines >= first_line) & (lines < first_line + n)] - first_line
