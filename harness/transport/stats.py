"""Per-process stat slots in one shared-memory block.

    block:  slot 0 [counters | histogram "publish" | histogram "e2e" | ...]
            slot 1 [...]

Each process owns one slot and is its only writer; the metrics process only
reads, copying the whole block (no locks: every value is one aligned 8-byte
int64, so a reader sees each value either before or after a store, and
counters only grow). Counters are named by COUNTERS; GAUGES among them are
levels set by their owner rather than totals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from generators.baddata import KINDS
from harness.transport.shm import Ref, Segment
from harness.report.histogram import SLOTS, Histogram

# A producer counts "sending" before each send and "sent" after it, so that
# lines handed to a sink are known even if the process dies inside the call;
# "dropped" are failed lines never handed to the sink (it was down).
# "beat_ms" is when the process last showed progress and "busy_until_ms" how
# long a call it is in may legitimately block (both wall-clock milliseconds):
# the supervisor reads them to tell a hung process from a busy one.
# "last_delivery_ms" is when the producer last settled a delivered line: a
# run's span ends there, not when its processes have finished stopping.
COUNTERS = ("generated", "bad", "sending", "sent", "delivered", "failed", "dropped", "bytes", "late", "lag_us",
            "ring_fill_ppm", "observed", "batches", "beat_ms", "busy_until_ms", "last_delivery_ms",
            *(f"bad_{kind}" for kind in KINDS))
GAUGES = ("lag_us", "ring_fill_ppm", "beat_ms", "busy_until_ms", "last_delivery_ms")
INDEX = {name: i for i, name in enumerate(COUNTERS)}


@dataclass(frozen=True)
class StatsHandle:
    """What another process needs to attach; picklable as a Process argument only (transport/shm.py)."""

    segment: Ref
    slots: int
    histograms: tuple[str, ...]


class Slot:
    """One process's counters and histograms, written in place."""

    def __init__(self, counters: np.ndarray, histograms: dict[str, Histogram], board: StatsBoard) -> None:
        self._counters = counters
        self._histograms = histograms
        self._board = board  # the mapping outlives the views into it

    def add(self, name: str, n: int = 1) -> None:
        self._counters[INDEX[name]] += n

    def set(self, name: str, value: int) -> None:
        self._counters[INDEX[name]] = value

    def get(self, name: str) -> int:
        return int(self._counters[INDEX[name]])

    def beat(self, busy_for: float = 0.0) -> None:
        """Show progress now; `busy_for`: the call about to be made may block
        that many seconds without being a hang."""
        now_ms = int(time.time() * 1000)
        self._counters[INDEX["beat_ms"]] = now_ms
        self._counters[INDEX["busy_until_ms"]] = now_ms + int(busy_for * 1000)

    def histogram(self, name: str) -> Histogram:
        """A view over shared memory: what is recorded here the reader sees."""
        return self._histograms[name]


@dataclass(frozen=True)
class Snapshot:
    """A copy of every slot at one moment. counters[slot, INDEX[name]]."""

    counters: np.ndarray
    histograms: dict[str, Histogram]  # merged over all slots
    slot_histograms: dict[str, list[Histogram]]

    def total(self, name: str) -> int:
        return int(self.counters[:, INDEX[name]].sum())

    def value(self, slot: int, name: str) -> int:
        return int(self.counters[slot, INDEX[name]])

    def since(self, earlier: Snapshot) -> Snapshot:
        """What happened between `earlier` and this snapshot (gauges keep their current level)."""
        counters = self.counters - earlier.counters
        for name in GAUGES:
            counters[:, INDEX[name]] = self.counters[:, INDEX[name]]
        return Snapshot(counters, {name: _minus(h, earlier.histograms[name]) for name, h in self.histograms.items()},
                        {name: [_minus(h, e) for h, e in zip(slots, earlier.slot_histograms[name])]
                         for name, slots in self.slot_histograms.items()})


def _minus(later: Histogram, earlier: Histogram) -> Histogram:
    delta = later.copy()
    delta.subtract(earlier)
    return delta


class StatsBoard:
    """The shared block. Every process that made or attached one closes it."""

    def __init__(self, handle: StatsHandle, segment: Segment) -> None:
        self.handle = handle
        self._segment = segment
        width = len(COUNTERS) + SLOTS * len(handle.histograms)
        self._block = np.ndarray((handle.slots, width), dtype=np.int64, buffer=segment.buf)

    @classmethod
    def create(cls, slots: int, histograms: tuple[str, ...] = ("publish", "e2e")) -> StatsBoard:
        if slots < 1:
            raise ValueError("a stats board needs at least one slot")
        size = slots * (len(COUNTERS) + SLOTS * len(histograms)) * 8
        segment = Segment.create(size, "logstorm-stats")  # zeroed, as a new memory file is
        return cls(StatsHandle(segment.ref, slots, tuple(histograms)), segment)

    @classmethod
    def attach(cls, handle: StatsHandle) -> StatsBoard:
        return cls(handle, Segment.attach(handle.segment))

    def slot(self, i: int) -> Slot:
        """Slot i, for its one writer. Drop it (and its histograms) before close()."""
        return Slot(self._block[i, :len(COUNTERS)], self._histograms(self._block[i]), self)

    def column(self, name: str) -> np.ndarray:
        """One counter of every slot, copied (cheap: no histograms)."""
        return self._block[:, INDEX[name]].copy()

    def snapshot(self) -> Snapshot:
        block = self._block.copy()
        per_slot = [self._histograms(row) for row in block]
        slot_histograms = {name: [h[name] for h in per_slot] for name in self.handle.histograms}
        merged = {name: Histogram(block[:, self._offset(name):self._offset(name) + SLOTS].sum(axis=0))
                  for name in self.handle.histograms}
        return Snapshot(block[:, :len(COUNTERS)], merged, slot_histograms)

    def close(self) -> None:
        """Release the mapping. Fails (BufferError) while a Slot or one of its
        histograms from this board is still referenced (drop it, call again)."""
        self._block = None
        self._segment.close()

    def __del__(self) -> None:
        # Release the block before the segment's mapping is closed; a
        # histogram view still held elsewhere keeps it open instead.
        try:
            self.close()
        except (BufferError, AttributeError):
            pass

    def _offset(self, name: str) -> int:
        return len(COUNTERS) + SLOTS * self.handle.histograms.index(name)

    def _histograms(self, row: np.ndarray) -> dict[str, Histogram]:
        return {name: Histogram(row[self._offset(name):self._offset(name) + SLOTS]) for name in self.handle.histograms}
