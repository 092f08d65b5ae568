"""The producer role: drain this producer's rings, pace, deliver to its sink,
and turn acknowledgements into counts and latency.

Pacing (harness.load.pacing) is by the run-wide line number, so the producers
together follow the schedule exactly. A line's latency is measured from its
intended time (from its batch's creation when unpaced), so a stall in the
sink makes every line that fell due meanwhile late: no coordinated omission.
"""

from __future__ import annotations

import importlib
import os
import time
from collections import Counter
from typing import Any

from harness.run.controls import WAIT_SLICE, Controls
from harness.load.pacing import LATE_SECONDS, SEND_EVERY, Pacer
from harness.transport.ring import Ring, RingBatch, RingHandle
from harness.run.spec import SinkTarget
from harness.transport.stats import StatsBoard
from sinks.base import Ack, ReaderGone, cut

# A sink that has only failed, delivering nothing, for this long is down.
DOWN_SECONDS = 5.0
# Latency of a paced send is recorded in this many parts along its lines' intended times.
SPREAD_PARTS = 4
SPREADS_KEPT = 4096
CLOSE_SECONDS = 60.0
# After an abort (a second Ctrl-C) a sink gets this long to hand back what it
# holds: the supervisor ends the run about a second after the abort anyway.
ABORT_CLOSE_SECONDS = 0.5
# The producer of a schedule that promises each line its own time (a replay)
# asks to be run ahead of other work when it wakes, where the OS allows it
# (root, CAP_SYS_NICE, an RLIMIT_RTPRIO): the lowest real-time priority, or
# else a lower nice value. On a 2-core host at load 8-11 a sleeping producer
# woke up to 130-190 ms late at its own priority and at nice -10 alike (the
# kernel's autogroups weigh nice only within a session), within 10 ms at
# SCHED_RR 1. It sleeps most of the time, so it takes little from the
# others; kept busy by a fast replay, it would still leave them a core.
PER_LINE_NICE = -10


class Exhausted(Exception):
    """Every ring of this producer is closed and empty."""


class Inbox:
    """A producer's rings, read in run order: the batch with the lowest
    sequence among those waiting goes first. Batches are borrowed from their
    ring (Ring.borrow) and released once delivered; a ring's batches are
    delivered in its order, so they are released in the order borrowed."""

    def __init__(self, handles: list[RingHandle], doorbell: Any) -> None:
        self.rings = [Ring.attach(h) for h in handles]
        self.heads: list[RingBatch | None] = [None] * len(self.rings)
        self.open = [True] * len(self.rings)
        self.doorbell = doorbell
        self.lent: dict[int, Ring] = {}  # by the batch's sequence: its ring

    def release(self, batch: RingBatch) -> None:
        self.lent.pop(batch.seq).release()

    def next(self, timeout: float) -> RingBatch | None:
        for attempt in (0, 1):
            self._read_heads()
            if (batch := self._take_first(None)) is not None:
                return batch
            if not any(self.open):
                raise Exhausted
            if attempt == 0 and not self.doorbell.acquire(timeout=timeout):
                return None
        return None

    def earlier(self, seq: int) -> RingBatch | None:
        """A batch that has come, meanwhile, from before `seq` (another
        generator was slower to write it); None if there is none."""
        self._read_heads()
        return self._take_first(seq)

    def _read_heads(self) -> None:
        for i, ring in enumerate(self.rings):
            if self.heads[i] is None and self.open[i]:
                try:
                    self.heads[i] = head = ring.borrow(timeout=0)
                except EOFError:
                    self.open[i] = False
                    continue
                if head is not None:
                    self.lent[head.seq] = ring

    def _take_first(self, before: int | None) -> RingBatch | None:
        waiting = [i for i, head in enumerate(self.heads) if head is not None and (before is None or head.seq < before)]
        if not waiting:
            return None
        first = min(waiting, key=lambda i: self.heads[i].seq)
        batch, self.heads[first] = self.heads[first], None
        return batch

    def close(self) -> None:
        for ring in self.rings:
            ring.close_reader()
            ring.close()


class Producer:
    """One producer process's state: its sink, its stat slot, what failed."""

    def __init__(self, target: SinkTarget, sink: Any, slot: Any, controls: Controls, pacer: Pacer | None,
                 inbox: Inbox) -> None:
        self.target, self.sink, self.slot, self.controls, self.pacer = target, sink, slot, controls, pacer
        self.inbox = inbox
        self.longest_send = getattr(sink, "longest_send", 0.0)
        # A sink that only reads a batch during send() gets the ring's own
        # bytes, unpaced (pacing cuts batches with bytes.find); others a copy.
        self.borrows = getattr(sink, "borrows", False) and pacer is None
        self.publish = slot.histogram("publish")
        self.failures: Counter[str] = Counter()
        self.last_send = 0.0
        self.last_delivered = time.time()
        self.last_failed = 0.0
        self.down = ""  # why the sink is considered down, once it is
        self.reader_gone = ""  # why the sink's reader went away, once it did: the run ends, nothing failed
        # Paced sends hold lines due over a few milliseconds: their spread,
        # by the send's intended time, so that each line's latency counts
        # from about its own intended time, not only the first line's.
        self.spreads: dict[float, float] = {}

    def settle(self, acks: list[Ack]) -> None:
        now = time.time()
        for ack in acks:
            if ack.delivered:
                self.slot.add("delivered", ack.delivered)
                self.slot.set("last_delivery_ms", int(now * 1000))
                self.record_latency(now, ack)
                self.last_delivered = now
            if ack.failed:
                self.slot.add("failed", ack.failed)
                self.failures[ack.reason or "unknown"] += ack.failed
                self.last_failed = now
        if not self.down and self.last_failed > self.last_delivered + DOWN_SECONDS:
            # Everything failing and nothing delivered for a while: stop the run
            # rather than spend the rest of it timing out line after line.
            self.down = f"{self.target.name}: nothing delivered for {now - self.last_delivered:.0f} s, only failures; run stopped"
            self.controls.stop.set()

    def record_latency(self, now: float, ack: Ack) -> None:
        spread = self.spreads.get(ack.intended, 0.0)
        parts = SPREAD_PARTS if spread > 0 and ack.delivered >= SPREAD_PARTS else 1
        for part in range(parts):
            lines = ack.delivered // parts + (part < ack.delivered % parts)
            intended = ack.intended + spread * part / max(1, parts - 1)
            self.publish.record(max(1, int((now - intended) * 1e6)), lines)

    def idle(self, until: float) -> None:
        """Wait for acks (a sink like Kafka blocks in poll), then sleep the
        rest; at most SEND_EVERY, so that the stop flag and the inbox (for an
        earlier batch) are looked at again in time."""
        until = min(until, time.time() + SEND_EVERY)
        self.slot.beat(max(0.0, until - time.time()))
        self.settle(self.sink.poll(max(0.0, until - time.time())))
        rest = until - time.time()
        if rest > 0:
            time.sleep(rest)

    def deliver(self, batch: RingBatch) -> None:
        """Send a ring batch, paced if the run is, and give its bytes back to
        the ring; a down sink gets nothing: its lines count as failed, unsent."""
        try:
            self._deliver(batch, batch.data if self.borrows else bytes(batch.data))
        finally:
            self.inbox.release(batch)

    def _deliver(self, batch: RingBatch, data: bytes | memoryview) -> None:
        if self.down:
            self.slot.add("failed", batch.lines)
            self.slot.add("dropped", batch.lines)
            self.failures[f"not sent: {self.target.name} was down"] += batch.lines
            return
        offset, line = 0, batch.seq
        end_line = batch.seq + batch.lines
        while line < end_line and not self.controls.abort.is_set():
            take, intended = self.chunk(batch, line, end_line)
            if not take:
                # While this batch waits for its time, another generator may
                # have written an earlier one (both were due at once, at the
                # start): it goes first, or its lines would wait for these.
                if (earlier := self.inbox.earlier(line)) is not None:
                    self.deliver(earlier)
                else:
                    self.idle(intended)
                continue
            stop = len(data) if line + take == end_line else cut(data, take, offset)
            if self.pacer is not None and take > 1:
                if len(self.spreads) >= SPREADS_KEPT:
                    del self.spreads[next(iter(self.spreads))]
                self.spreads[intended] = self.pacer.intended(line + take - 1, intended) - intended
            self.slot.add("sending", take)
            self.slot.beat(self.longest_send)
            try:
                self.sink.send(data[offset:stop] if offset or stop < len(data) else data, take, intended)
            except ReaderGone as gone:
                self.slot.add("sending", gone.delivered - take)  # the rest was never taken: unsent, not in doubt
                self.settle(self.sink.poll(0))
                self.reader_gone = gone.reason
                self.controls.stop.set()
                return
            self.last_send = time.time()
            self.slot.add("sent", take)
            if self.pacer is not None and self.last_send - intended > LATE_SECONDS:
                self.slot.add("late", take)
            offset, line = stop, line + take
            self.settle(self.sink.poll(0))

    def chunk(self, batch: RingBatch, line: int, end_line: int) -> tuple[int, float]:
        """(lines to send now, their intended time), or (0, when the next
        line falls due)."""
        pacer = self.pacer
        if pacer is None:
            return end_line - line, batch.created
        now = time.time()
        if self.controls.stop.is_set():  # draining after Ctrl-C: no more pacing
            return end_line - line, pacer.intended(line, now)
        take, when = pacer.next_send(now, line, end_line, self.last_send)
        self.slot.set("lag_us", int(max(0.0, now - when) * 1e6) if take else 0)
        return take, when


def raise_priority() -> None:
    """SCHED_RR at its lowest priority, or else PER_LINE_NICE, whichever
    the OS allows first; neither: the producer runs as it is."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(os.sched_get_priority_min(os.SCHED_RR)))
        return
    except (OSError, AttributeError):  # not allowed; not Linux
        pass
    try:
        os.nice(PER_LINE_NICE)
    except OSError:
        pass


def producer_role(target: SinkTarget, rank: int, count: int, rings: list[RingHandle], doorbell: Any, controls: Controls) -> dict:
    sink = importlib.import_module(target.module).create(target.options, rank, count)
    sink.open()
    inbox = Inbox(rings, doorbell)
    board = StatsBoard.attach(controls.board)
    if controls.schedule is not None and controls.schedule.per_line:
        raise_priority()
    producer = Producer(target, sink, board.slot(controls.slot), controls, controls.begin(), inbox)
    try:
        while not controls.abort.is_set():
            producer.slot.beat(WAIT_SLICE)
            try:
                batch = inbox.next(WAIT_SLICE)
            except Exhausted:
                break
            if batch is None:
                producer.settle(sink.poll(0))
            else:
                producer.deliver(batch)
            if producer.reader_gone:
                break
    finally:
        inbox.close()
        short = controls.abort.is_set() or producer.down
        close_seconds = ABORT_CLOSE_SECONDS if short else CLOSE_SECONDS
        producer.slot.beat(close_seconds)
        producer.settle(sink.close(close_seconds))
        failures, down, reader_gone = dict(producer.failures), producer.down, producer.reader_gone
        del producer  # the board's mapping closes only once no view of it is left
        board.close()
    fingerprint = getattr(sink, "fingerprint", None)
    return {"failures": failures, "fingerprint": fingerprint() if fingerprint else None, "down": down,
            "reader_gone": reader_gone}
