"""Replay on a file's own clock: line k is due at its original offset from
the first line, divided by the speed (--speed 60: an hour in a minute).

A Schedule (harness/load/schedule.py) like the others, so the producers
pace it as they pace a rate: by the run-wide line number. Its lines_due is
the count of lines due minus one, made continuous between two lines'
offsets, which is what the pacer expects of a rate's integral (line k is
due when lines_due first exceeds k... at k's own offset).

Lines whose time cannot be read keep the offset of the line before them
(they go out in order, with it); a line stamped before an earlier line
goes out right after it, and is counted as going back in time.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Sequence

from harness.load.schedule import Schedule


@dataclass(frozen=True)
class Timing:
    offsets: list[float]  # seconds after the first readable line, never decreasing, unscaled
    unreadable: int  # lines without a readable time
    backwards: int  # lines stamped before a line already seen
    most_backwards: float  # seconds, the furthest any of them went back


def timing(times: Iterable[float | None]) -> Timing:
    """Offsets from the lines' times (None: unreadable)."""
    offsets: list[float] = []
    first = latest = None
    unreadable = backwards = 0
    most = 0.0
    for time in times:
        if time is None:
            unreadable += 1
        elif first is None:
            first = latest = time
        elif time < latest:
            backwards += 1
            most = max(most, latest - time)
        else:
            latest = time
        offsets.append(0.0 if latest is None else latest - first)
    return Timing(offsets, unreadable, backwards, most)


class Replay(Schedule):
    per_line = True

    def __init__(self, offsets: Sequence[float], speed: float = 1.0) -> None:
        self.due = [offset / speed for offset in offsets]

    @property
    def duration(self) -> float:
        return self.due[-1] if self.due else 0.0

    @property
    def total_lines(self) -> float:
        return len(self.due)

    def rate_at(self, t: float) -> float:
        """Lines per second over the second around t (what the dashboard shows as the target)."""
        if not self.due or t < 0 or t > self.duration:
            return 0.0
        return float(bisect_right(self.due, t + 0.5) - bisect_right(self.due, t - 0.5))

    def lines_due(self, t: float) -> float:
        count = bisect_right(self.due, t)
        if count == 0:
            return -1.0 if t < 0 else 0.0
        if count >= len(self.due):
            return float(len(self.due) - 1)
        last, following = self.due[count - 1], self.due[count]
        return count - 1 + (t - last) / (following - last)

    def _time_of(self, k: float) -> float:
        return self.due[min(int(math.floor(k)), len(self.due) - 1)]
