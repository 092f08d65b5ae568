"""How the supervisor and its roles cooperate: a common start, and two ways
to end (stop: finish what is in flight; abort: drop everything)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.load.pacing import Pacer

# Longest a role blocks before it looks at the stop and abort flags again.
WAIT_SLICE = 0.2


@dataclass(frozen=True)
class Controls:
    """What every role needs to cooperate with the supervisor."""

    board: Any  # StatsBoard handle
    slot: int
    schedule: Any  # a harness.load.schedule Schedule, or None when unpaced
    ready: Any  # Semaphore: released once the role is set up
    go: Any  # Flag (transport/flags.py): set when every role is ready; start_at then holds the start
    start_at: Any  # shared double
    stop: Any  # Flag: finish gracefully
    abort: Any  # Flag: drop everything

    def begin(self) -> Pacer | None:
        """Say ready, wait for the common start; the run's pacer if paced."""
        self.ready.release()
        while not self.go.wait(WAIT_SLICE):
            if self.abort.is_set():
                return None
        return None if self.schedule is None else Pacer(self.start_at.value, self.schedule)
