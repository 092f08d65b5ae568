"""What a read-back found, line by line, without storing lines: one bit (a
count) per line number seen, and latency from the pacer's intended time of
line n (a pure function of n), so nothing is kept per line sent.

    tally = Tally(intended=pacer.due_at)   # None when the run was not paced
    tally.add(stream, found, arrival)      # found: generators.tag.find(...)
    tally.summary(expected)                # seen, missing (first few), duplicated, ...

The clock is the caller's: `arrival` is passed in.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from harness.readback.target import FIRST_MISSING

GROW = 1 << 16


class Tally:
    def __init__(self, intended: Callable[[int], float | None] | None = None) -> None:
        self.intended = intended
        self.counts = np.zeros(GROW, np.uint16)
        self.arrivals = 0
        self.untagged = 0
        self.other_runs = 0
        self.out_of_order = 0
        self.highest: dict[object, int] = {}  # per stream (a partition, a file): the highest line number so far

    def add(self, stream: object, found, arrival: float) -> np.ndarray:
        """Count one read's lines of this run; their latencies in
        microseconds (empty when the run was not paced)."""
        self.untagged += found.untagged
        self.other_runs += found.other_runs
        if not found.lines:
            return np.empty(0, np.int64)
        numbers = np.asarray(found.lines, np.int64)
        self._grow(int(numbers.max()) + 1)
        np.add.at(self.counts, numbers, 1)
        self.arrivals += len(numbers)
        before = self.highest.get(stream, -1)
        running = np.maximum.accumulate(np.concatenate(([before], numbers)))
        self.out_of_order += int((numbers < running[:-1]).sum())
        self.highest[stream] = int(running[-1])
        return self._latencies(found.lines, arrival)

    def _grow(self, size: int) -> None:
        if size > len(self.counts):
            counts = np.zeros(max(size, 2 * len(self.counts)), np.uint16)
            counts[:len(self.counts)] = self.counts
            self.counts = counts

    def _latencies(self, lines: list[int], arrival: float) -> np.ndarray:
        if self.intended is None:
            return np.empty(0, np.int64)
        due = [self.intended(n) for n in lines]
        return np.array([max(1, int((arrival - d) * 1e6)) for d in due if d is not None], np.int64)

    @property
    def seen(self) -> int:
        return int(np.count_nonzero(self.counts))

    def summary(self, expected: int) -> dict:
        """The report of lines 0 .. expected-1 (and any beyond: they are
        counted seen, as a run with more lines than it said would be)."""
        self._grow(expected)
        missing = np.flatnonzero(self.counts[:expected] == 0)
        return {"expected": expected, "seen": self.seen, "missing": int(len(missing)),
                "first_missing": missing[:FIRST_MISSING].tolist(),
                "duplicated": self.arrivals - self.seen, "out_of_order": self.out_of_order,
                "untagged": self.untagged, "other_runs": self.other_runs}
