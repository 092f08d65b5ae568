"""The producer role: drain this producer's rings, pace, deliver to its sink,
and turn acknowledgements into counts and latency.

Pacing is by the run-wide line number: line g of the run is due at
start + schedule.time_of_line(g), whichever producer holds it, so the
producers together follow the schedule exactly. A line's latency is measured
from that intended time (from its batch's creation when unpaced), so a stall
in the sink makes every line that fell due meanwhile late: no coordinated
omission.
"""

from __future__ import annotations

import importlib
import math
import time
from collections import Counter
from typing import Any

from harness.controls import WAIT_SLICE, Controls
from harness.ring import Ring, RingBatch, RingHandle
from harness.runspec import SinkTarget
from harness.stats import StatsBoard
from sinks.base import Ack, cut

# A line sent this long after its intended time counts as late.
LATE_SECONDS = 0.05
CHUNK_SECONDS = 0.01
SEND_EVERY = 0.01
CLOSE_SECONDS = 60.0


class Exhausted(Exception):
    """Every ring of this producer is closed and empty."""


class Inbox:
    """A producer's rings, read in run order: the batch with the lowest
    sequence among those waiting goes first."""

    def __init__(self, handles: list[RingHandle], doorbell: Any) -> None:
        self.rings = [Ring.attach(h) for h in handles]
        self.heads: list[RingBatch | None] = [None] * len(self.rings)
        self.open = [True] * len(self.rings)
        self.doorbell = doorbell

    def next(self, timeout: float) -> RingBatch | None:
        for attempt in (0, 1):
            for i, ring in enumerate(self.rings):
                if self.heads[i] is None and self.open[i]:
                    try:
                        self.heads[i] = ring.read(timeout=0)
                    except EOFError:
                        self.open[i] = False
            waiting = [i for i, head in enumerate(self.heads) if head is not None]
            if waiting:
                first = min(waiting, key=lambda i: self.heads[i].seq)
                batch, self.heads[first] = self.heads[first], None
                return batch
            if not any(self.open):
                raise Exhausted
            if attempt == 0 and not self.doorbell.acquire(timeout=timeout):
                return None
        return None

    def close(self) -> None:
        for ring in self.rings:
            ring.close_reader()
            ring.close()


def producer_role(target: SinkTarget, rank: int, count: int, rings: list[RingHandle], doorbell: Any, controls: Controls) -> dict:
    sink = importlib.import_module(target.module).create(target.options, rank, count)
    sink.open()
    inbox = Inbox(rings, doorbell)
    board = StatsBoard.attach(controls.board)
    slot = board.slot(controls.slot)
    publish = slot.histogram("publish")
    failures: Counter[str] = Counter()
    timing = controls.begin()

    def settle(acks: list[Ack]) -> None:
        now = time.time()
        for ack in acks:
            if ack.delivered:
                slot.add("delivered", ack.delivered)
                publish.record(max(1, int((now - ack.intended) * 1e6)), ack.delivered)
            if ack.failed:
                slot.add("failed", ack.failed)
                failures[ack.reason or "unknown"] += ack.failed

    def idle(until: float) -> None:
        """Wait for acks (a sink like Kafka blocks in poll), then sleep the rest."""
        settle(sink.poll(max(0.0, min(until - time.time(), WAIT_SLICE))))
        rest = min(until - time.time(), WAIT_SLICE)
        if rest > 0:
            time.sleep(rest)  # one system call; the stop flag is read at the next turn

    last_send = 0.0
    try:
        while not controls.abort.is_set():
            try:
                batch = inbox.next(WAIT_SLICE)
            except Exhausted:
                break
            if batch is None:
                settle(sink.poll(0))
                continue
            offset, line = 0, batch.seq
            end_line = batch.seq + batch.lines
            while line < end_line and not controls.abort.is_set():
                if timing is None:
                    take, intended = end_line - line, batch.created
                elif controls.stop.is_set():  # draining after Ctrl-C: no more pacing
                    take, intended = end_line - line, timing.intended(line)
                else:
                    now = time.time()
                    due = timing.schedule.lines_due(now - timing.start)  # lines 0 .. ceil(due)-1 are due
                    if due <= line:
                        slot.set("lag_us", 0)
                        when = timing.schedule.time_of_line(line)
                        # At most one send per SEND_EVERY: at low rates, waking for every line
                        # would cost more than the line. The wait shows in the lines' latency.
                        idle(now + WAIT_SLICE if when is None else max(timing.start + when, last_send + SEND_EVERY))
                        continue
                    intended = timing.intended(line)
                    # One send holds the lines due within CHUNK_SECONDS of its first, so that
                    # timing a send by its first line overstates no line's latency by more.
                    window = math.ceil(timing.schedule.lines_due(intended - timing.start + CHUNK_SECONDS))
                    take = max(1, min(end_line, math.ceil(due), window) - line)
                    slot.set("lag_us", int(max(0.0, now - intended) * 1e6))
                stop = len(batch.data) if line + take == end_line else cut(batch.data, take, offset)
                sink.send(batch.data[offset:stop] if offset or stop < len(batch.data) else batch.data, take, intended)
                last_send = time.time()
                slot.add("sent", take)
                if time.time() - intended > LATE_SECONDS and timing is not None:
                    slot.add("late", take)
                offset, line = stop, line + take
                settle(sink.poll(0))
    finally:
        inbox.close()
        settle(sink.close(1.0 if controls.abort.is_set() else CLOSE_SECONDS))
        del slot, publish, settle, idle  # the board's mapping closes only once no view of it is left
        board.close()
    fingerprint = getattr(sink, "fingerprint", None)
    return {"failures": dict(failures), "fingerprint": fingerprint() if fingerprint else None}
