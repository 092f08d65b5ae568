"""Which rate to try next when looking for the highest one a target
sustains (`logstorm find-rate`): double from a starting rate until a step
misses (or the ceiling of the search is reached), then halve the gap between
the highest rate that held and the lowest that missed until it is within
`precision` of the latter. A step that misses is run once more, and counts
as missed only if it misses again: on a shared host one slow spell would
otherwise lower the answer for good (a rate 10 % under a sink's ceiling,
missed once, measured here). Pure: the caller runs each step and says
whether it held; no clock, no processes.

    search = RateSearch(start=1000, ceiling=100_000)
    while (rate := search.next()) is not None:
        search.record(rate, held=run_step(rate))
    search.answer  # the highest rate that held, or None
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRECISION = 0.05  # the answer is within 5 % below the lowest rate that missed
GROWTH = 2.0


@dataclass
class RateSearch:
    start: float
    ceiling: float | None = None
    precision: float = PRECISION
    held: float | None = None  # the highest rate that held
    missed: float | None = None  # the lowest rate that missed twice in a row
    doubted: float | None = None  # a rate that missed once: it is tried again
    tried: list[tuple[float, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.start <= 0 or (self.ceiling is not None and self.ceiling < self.start) or not 0 < self.precision < 1:
            raise ValueError(f"a search needs 0 < start <= ceiling and 0 < precision < 1, not {self}")

    def next(self) -> float | None:
        """The rate of the next step, or None when the search is over."""
        if not self.tried:
            return self.start
        if self.doubted is not None:
            return self.doubted
        if self.missed is None:
            if self.held is None or (self.ceiling is not None and self.held >= self.ceiling):
                return None
            rising = self.held * GROWTH
            return min(rising, self.ceiling) if self.ceiling is not None else rising
        if self.held is None or (self.missed - self.held) <= self.precision * self.missed:
            return None  # the first step missed, or the gap is closed
        return round((self.held + self.missed) / 2, 3)

    def record(self, rate: float, held: bool) -> None:
        self.tried.append((rate, held))
        confirmed, self.doubted = self.doubted == rate, None
        if held:
            self.held = rate if self.held is None else max(self.held, rate)
        elif confirmed:
            self.missed = rate if self.missed is None else min(self.missed, rate)
        else:
            self.doubted = rate

    @property
    def answer(self) -> float | None:
        return self.held
