"""Pacing a run: line g of the run, whichever producer holds it, is due at
start + schedule.time_of_line(g), so the producers together follow the
schedule exactly.

Everything is computed from the start time and the line number, never from
the time the last line went out, so time spent working (or stalled in the
sink) is made up for, and lines that should have gone out during a stall
keep their intended time: latency measured from it includes the stall (no
coordinated omission).

The clock is the caller's: every method takes `now`, so tests need no time.
A producer's loop:

    take, when = pacer.next_send(now, line, end_line, last_send)
    if take:  send lines line .. line+take-1, stamped `when`; line += take
    else:     sleep until `when` (math.inf: the schedule is over)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.load.schedule import Schedule

# A line sent this long after its intended time counts as late.
LATE_SECONDS = 0.05
# One send holds the lines due within this long of its first, so that timing
# a send by its first line overstates no line's latency by more.
CHUNK_SECONDS = 0.01
# At most one send this often: at low rates, waking for every line would cost
# more than the line. The wait shows in the lines' latency.
SEND_EVERY = 0.01
# The same for a schedule that promises each line its own time (a replay,
# within 20 ms): at a file's 1,000 lines/s, 500 sends a second.
PER_LINE_SEND_EVERY = 0.002


@dataclass(frozen=True)
class Pacer:
    start: float  # when line 0 is due (seconds since the epoch, or any clock's)
    schedule: Schedule

    @property
    def send_every(self) -> float:
        return PER_LINE_SEND_EVERY if self.schedule.per_line else SEND_EVERY

    def due_at(self, line: int) -> float | None:
        """When run-wide line `line` is due; None if the schedule never reaches it."""
        offset = self.schedule.time_of_line(line)
        return None if offset is None else self.start + offset

    def intended(self, line: int, now: float) -> float:
        """The time to stamp on line `line`: when it is due (`now`, if never)."""
        due = self.due_at(line)
        return now if due is None else due

    def next_send(self, now: float, line: int, end_line: int, last_send: float) -> tuple[int, float]:
        """(lines from `line`, before `end_line`, to send now, and their
        intended time), or (0, when to look again) if `line` is not due."""
        intended = self.due_at(line)
        if intended is None or intended > now:
            return 0, math.inf if intended is None else max(intended, last_send + self.send_every)
        due = math.floor(self.schedule.lines_due(now - self.start)) + 1  # lines 0 .. due-1 are due
        window = math.ceil(self.schedule.lines_due(intended - self.start + CHUNK_SECONDS))
        return max(1, min(end_line, due, window) - line), intended
