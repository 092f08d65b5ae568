"""When each line happened: a simulated clock (deterministic, the default) or
the wall clock (`--realtime`). Both give non-decreasing times within a batch,
and a batch never starts before the previous one ended, also when several
processes render the batches (the wall clock then read as each batch is
claimed, harness/transport/claims.py)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, Callable, Protocol

import numpy as np


class Clock(Protocol):
    def times(self, first_line: int, n: int, rng: np.random.Generator) -> np.ndarray: ...


class SimulatedClock:
    """Traffic arriving at `rate` lines per simulated second from `start`:
    line i falls in the slot [i/rate, (i+1)/rate), so any process can stamp
    any batch without knowing the others, and the result is monotone."""

    def __init__(self, start: float, rate: float) -> None:
        self.start = start
        self.rate = rate

    def times(self, first_line: int, n: int, rng: np.random.Generator) -> np.ndarray:
        slots = np.arange(first_line, first_line + n, dtype=np.float64)
        return self.start + (slots + rng.random(n)) / self.rate


class WallClock:
    """Lines stamped between the previous batch and now, in order. `memory`
    holds when the previous batch ended (`last`, 0.0 before the first):
    processes that share one memory, taking turns, stamp one sequence."""

    def __init__(self, now: Callable[[], float] = time.time, memory: Any = None) -> None:
        self.now = now
        self.memory = memory if memory is not None else SimpleNamespace(last=0.0)

    def times(self, first_line: int, n: int, rng: np.random.Generator) -> np.ndarray:
        return spread(*self.window(), n, rng)

    def window(self) -> tuple[float, float]:
        """(when the previous batch ended, now): the next batch's times."""
        now = self.now()
        last = min(self.memory.last or now, now)
        self.memory.last = now
        return last, now


class WindowClock:
    """Times within a window set from outside before each batch (--realtime
    with several generators: taken when the batch is claimed, in batch order)."""

    start = end = 0.0

    def times(self, first_line: int, n: int, rng: np.random.Generator) -> np.ndarray:
        return spread(self.start, self.end, n, rng)


def spread(start: float, end: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` sorted random times between `start` and `end`."""
    return np.sort(start + rng.random(n) * (end - start))
