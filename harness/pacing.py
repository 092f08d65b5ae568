"""Pacing one producer: its share of a schedule, in absolute intended times.

A producer with `share` of the total rate sends its line j when the
schedule's line j / share is due. Everything is computed from the start
time and the count sent so far, never from the time the last line went out,
so time spent working (or stalled in the sink) is made up for, and lines
that should have gone out during a stall keep their intended time: latency
measured from it includes the stall (no coordinated omission).

The clock is the caller's: every method takes `now`, so tests need no time.
A typical loop:

    due = pacer.due_count(now) - sent
    if due > 0:   send min(due, chunk) lines stamped pacer.intended(now, sent); sent += n
    else:         sleep(pacer.wait(now, sent))   # math.inf: the schedule is over
"""

from __future__ import annotations

import math
import sys

from harness.schedule import Schedule


class Pacer:
    def __init__(self, schedule: Schedule, share: float = 1.0, start: float = 0.0) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"a producer's share of the rate must be within (0, 1], not {share}")
        self.schedule = schedule
        self.share = share
        self.start = start

    @property
    def unlimited(self) -> bool:
        return self.schedule.unlimited

    def next_due(self, sent: int) -> float | None:
        """Intended time of this producer's line `sent` (0-based); None if it is
        never due (a finite schedule has ended). Unlimited: the start."""
        t = self.schedule.time_of_line(sent / self.share)
        return None if t is None else self.start + t

    def intended(self, now: float, sent: int) -> float:
        """The time to stamp on a chunk starting at line `sent` and sent at
        `now`: its due time when paced, `now` when unlimited (or past the end)."""
        due = None if self.unlimited else self.next_due(sent)
        return now if due is None else due

    def due_count(self, now: float) -> int:
        """How many of this producer's lines are due by `now` (so the caller may
        send due_count(now) - sent of them at once). Unlimited: sys.maxsize."""
        if self.unlimited:
            return sys.maxsize
        if now < self.start:
            return 0
        count = math.floor(self.share * self.schedule.lines_due(now - self.start))
        # The integral and its inverse may disagree in the last bit near a line
        # boundary: next_due decides, so that wait() is 0 exactly when
        # due_count() > sent, and a producer never loops without sleeping.
        while (due := self.next_due(count)) is not None and due <= now:
            count += 1
        while count > 0 and self.next_due(count - 1) > now:
            count -= 1
        return count

    def wait(self, now: float, sent: int) -> float:
        """Seconds until line `sent` is due: 0 if late or unlimited, math.inf if never."""
        if self.unlimited:
            return 0.0
        due = self.next_due(sent)
        return math.inf if due is None else max(due - now, 0.0)

    def lag(self, now: float, sent: int) -> float:
        """Seconds behind schedule: how long line `sent` has been due (0 if not yet,
        unlimited, or never)."""
        due = None if self.unlimited else self.next_due(sent)
        return 0.0 if due is None else max(now - due, 0.0)

    def target_rate(self, now: float) -> float:
        """This producer's intended lines per second at `now` (math.inf when unlimited)."""
        return self.share * self.schedule.rate_at(now - self.start)
