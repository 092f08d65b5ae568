"""How the supervisor and its roles cooperate: a common start, and two ways
to end (stop: finish what is in flight; abort: drop everything)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# Longest a role blocks before it looks at the stop and abort flags again.
WAIT_SLICE = 0.2


@dataclass(frozen=True)
class Timing:
    """When a paced run started and its load shape (a harness.schedule Schedule)."""

    start: float
    schedule: Any

    def intended(self, line: int) -> float:
        """When run-wide line `line` is due (now, if the schedule never reaches it)."""
        offset = self.schedule.time_of_line(line)
        return time.time() if offset is None else self.start + offset


@dataclass(frozen=True)
class Controls:
    """What every role needs to cooperate with the supervisor."""

    board: Any  # StatsBoard handle
    slot: int
    schedule: Any  # a harness.schedule Schedule, or None when unpaced
    ready: Any  # Semaphore: released once the role is set up
    go: Any  # Event: set when every role is ready; start_at then holds the start
    start_at: Any  # shared double
    stop: Any  # Event: finish gracefully
    abort: Any  # Event: drop everything

    def begin(self) -> Timing | None:
        """Say ready, wait for the common start; the run's timing if paced."""
        self.ready.release()
        while not self.go.wait(WAIT_SLICE):
            if self.abort.is_set():
                return None
        return None if self.schedule is None else Timing(self.start_at.value, self.schedule)
