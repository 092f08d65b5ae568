"""A run's batches handed out one at a time to whichever generator process
asks first (`generate -P` and `logstorm run -g` alike).

Dealt out in turn instead (batch i to generator i mod G), two generators run
at twice the slower one's speed: on two cores shared with a producer, one of
them lost a core's share to it and finished 0.28 s after the other in a run of
5M lines. Claimed, the faster one takes more batches and both end together.
Batch i depends only on the seed and i, so who renders it changes nothing
in the output.

--realtime: the batch's time window (from the end of the previous claim's
window to now) is taken in the same breath as the batch, so that windows
follow the batches' order whoever renders them.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable

from generators.clock import WallClock, WindowClock


class ClaimState(ctypes.Structure):
    """In memory the claiming processes share (multiprocessing's RawValue)."""

    _fields_ = [("claimed", ctypes.c_int64),  # batches handed out so far
                ("last", ctypes.c_double)]  # --realtime: when the latest claimed batch's window ended


def batch_size(index: int, lines: int, batch_lines: int) -> int:
    """Lines in batch `index` of a run of `lines` lines (0: endless); 0 past its end."""
    return batch_lines if lines == 0 else max(0, min(batch_lines, lines - index * batch_lines))


class Claims:
    """Batches first, first + stride, first + 2*stride, ... of a run of
    `lines` lines (0: endless): a shard of a sharded run takes every
    stride-th. `lock` guards `state`; any lock or condition with a timed
    acquire will do, and any shared structure with ClaimState's fields."""

    def __init__(self, lock: Any, state: Any, lines: int, batch_lines: int, realtime: bool = False,
                 first: int = 0, stride: int = 1) -> None:
        self.lock, self.state = lock, state
        self.lines, self.batch_lines, self.first, self.stride = lines, batch_lines, first, stride
        self.wall = WallClock(memory=state) if realtime else None

    @classmethod
    def create(cls, context: Any, lines: int, batch_lines: int, realtime: bool = False, first: int = 0,
               stride: int = 1) -> Claims:
        return cls(context.Lock(), context.RawValue(ClaimState), lines, batch_lines, realtime, first, stride)

    def window_clock(self) -> WindowClock | None:
        """With --realtime, the clock a claimer's factory stamps from: claim() sets its window."""
        return WindowClock() if self.wall is not None else None

    def peek(self) -> int | None:
        """The batch the next claim gets unless another process is faster
        (read without the lock: one aligned 8-byte load); None past the end."""
        index = self.first + self.stride * self.state.claimed
        return index if batch_size(index, self.lines, self.batch_lines) else None

    def claim(self, window: WindowClock | None = None, stopped: Callable[[], bool] = lambda: False,
              wait: float = 0.1) -> tuple[int, int] | None:
        """(index, lines) of the next batch nobody has; None when none is
        left, or when `stopped()` turns true while the lock is taken (a
        claimer that died holding it leaves the others asking in steps of
        `wait` seconds until the run stops)."""
        while not self.lock.acquire(True, wait):
            if stopped():
                return None
        try:
            index = self.first + self.stride * self.state.claimed
            n = batch_size(index, self.lines, self.batch_lines)
            if not n:
                return None
            self.state.claimed += 1
            if self.wall is not None and window is not None:
                window.start, window.end = self.wall.window()
            return index, n
        finally:
            self.lock.release()
