"""The source roles: a generator process renders batches of the run; for
`stream`, a reader reads stdin or files. Both hand each batch to every sink
through a Fanout (batch b to producer b mod P of each sink)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from harness.errors import RunFailed
from harness.run.controls import WAIT_SLICE, Controls
from harness.load.pacing import Pacer
from harness.report.truth import append_truth, as_sent
from harness.transport.claims import Claims
from harness.transport.ring import Ring, RingHandle
from harness.transport.stats import StatsBoard
from sinks.base import cut

if TYPE_CHECKING:
    from generators.factory import LineFactory, LineSpec

# A paced run reads or renders at most this far ahead of the schedule, so that
# Ctrl-C has little to drain and the rings never hold more than a moment of traffic.
LOOKAHEAD_SECONDS = 1.0
NEWLINE = 10


@dataclass(frozen=True)
class Outlet:
    """One ring a source writes, and the producer it feeds."""

    ring: RingHandle
    sink: int
    producer: int
    doorbell: Any  # the producer's semaphore: released after every write


class Fanout:
    def __init__(self, outlets: list[Outlet], controls: Controls, piece_lines: int) -> None:
        self.piece_lines = piece_lines
        self.records = 0
        self.rings = {(o.sink, o.producer): (Ring.attach(o.ring), o.doorbell) for o in outlets}
        self.largest = min(ring.largest for ring, _ in self.rings.values())
        self.producers = [1 + max(p for s, p in self.rings if s == sink) for sink in range(1 + max(s for s, _ in self.rings))]
        self.controls = controls
        self.board = StatsBoard.attach(controls.board)
        self.slot = self.board.slot(controls.slot)
        self.pacer: Pacer | None = None

    def begin(self) -> None:
        self.pacer = self.controls.begin()

    def stopped(self) -> bool:
        return self.controls.stop.is_set() or self.controls.abort.is_set()

    def wait_until_due(self, line: int) -> bool:
        """Sleep until `line` is due, less the lookahead; False if stopped
        first or if the schedule never reaches it."""
        if self.pacer is None:
            return not self.stopped()
        due = self.pacer.due_at(line)
        if due is None:
            return False
        due -= LOOKAHEAD_SECONDS
        while (wait := due - time.time()) > 0:
            self.slot.beat()
            if self.controls.stop.wait(min(wait, WAIT_SLICE)) or self.controls.abort.is_set():
                return False
        return not self.stopped()

    def write(self, data: bytes, lines: int, first_line: int, bad: dict[str, int] | None = None) -> bool:
        """Hand `lines` lines (run-wide numbers from `first_line`) to every
        sink, in pieces of at most piece_lines, each to the next producer.
        The lines count as generated before they are handed on: lines that
        never reach a sink (this process dies, the run aborts) are then
        counted as unsent, never as if they had not existed."""
        created = time.time()
        slot = self.slot
        slot.add("generated", lines)
        slot.add("bytes", len(data))
        slot.add("batches", 1)
        for kind, count in (bad or {}).items():
            slot.add("bad", count)
            slot.add(f"bad_{kind}", count)
        for start, end, count in pieces(data, lines, self.piece_lines, self.largest):
            piece = data if count == lines else memoryview(data)[start:end]
            for sink, producers in enumerate(self.producers):
                ring, doorbell = self.rings[(sink, self.records % producers)]
                while not ring.write(piece, count, created, first_line, timeout=WAIT_SLICE):
                    slot.beat()  # waiting on a full ring is progress: the producer is the slow one
                    if self.controls.abort.is_set() or ring.reader_closed:  # the producer is gone
                        return False
                doorbell.release()
            self.records += 1
            first_line += count
        slot.set("ring_fill_ppm", int(max(ring.fill() for ring, _ in self.rings.values()) * 1e6))
        slot.beat()
        return True

    def close(self) -> None:
        for ring, doorbell in self.rings.values():
            ring.close_writer()
            doorbell.release()
            ring.close()
        del self.slot  # the board's mapping closes only once no view of it is left
        self.board.close()


def count_lines(data: bytes) -> int:
    """Newlines in `data`: numpy's compare-and-count is four times faster
    than bytes.count(b"\n") here, which for `stream FILE` was a quarter of
    the reader's time."""
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == NEWLINE))


def pieces(data: bytes, lines: int, most: int, largest: int) -> list[tuple[int, int, int]]:
    """(start, end, line count) of consecutive runs of at most `most` lines
    and `largest` bytes (what a ring record holds); RunFailed for a line
    longer than that."""
    if lines <= most and len(data) <= largest:
        return [(0, len(data), lines)]
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == NEWLINE) + 1
    if not len(ends):
        ends = np.array([len(data)])
    ends[-1] = len(data)  # bytes after the last newline go with the last line
    out: list[tuple[int, int, int]] = []
    first = start = 0
    while first < len(ends):
        stop = min(first + most, int(np.searchsorted(ends, start + largest, side="right")))
        if stop == first:
            raise RunFailed(f"a line of {int(ends[first]) - start:,} bytes does not fit a ring record "
                             f"(at most {largest:,}, half a ring): give the command larger rings with --ring-mib")
        end = int(ends[stop - 1])
        out.append((start, end, stop - first))
        first, start = stop, end
    return out


def generator_role(source: LineSpec | LineFactory, claims: Claims, outlets: list[Outlet], controls: Controls,
                   piece_lines: int, tag: Any = None, truth: str | None = None) -> dict:
    """`source`: what to generate, or a factory already built for it (forked
    generators share the supervisor's). `claims`: the run's batches, which
    the generators take one at a time as each is ready for another (with
    --realtime, each batch's time window comes with it). `tag` (--tag,
    generators/tag.py) puts each line's identity into it. `truth`: the truth
    file each batch's bad lines are appended to (--truth), by their run-wide
    line numbers."""
    # Here, not at the top: `stream` runs only the reader role and needs no generator.
    from generators.factory import LineFactory

    factory = source if isinstance(source, LineFactory) else LineFactory(source)
    batch_lines = factory.spec.batch_lines
    window = claims.window_clock()
    if window is not None:
        factory.clock = window
    fanout = Fanout(outlets, controls, piece_lines)
    truths = None if truth is None else append_truth(truth)
    try:
        fanout.begin()
        # Paced, a generator waits for the next batch's time before it claims
        # it, so that it holds no batch the other could render meanwhile.
        while (upcoming := claims.peek()) is not None and fanout.wait_until_due(upcoming * batch_lines):
            if (claim := claims.claim(window, fanout.stopped)) is None:
                break
            index, n = claim
            first = index * batch_lines
            batch = factory.render(index, n)
            data = batch.data if tag is None else tag(batch.data, first)
            if truths is not None and batch.marks:  # before the lines count as generated: no bad line goes unnamed
                truths.add(first, batch.marks if tag is None else as_sent(batch.marks, data))
            if not fanout.write(data, batch.lines, first, batch.bad):
                break
    finally:
        if truths is not None:
            truths.close()
        fanout.close()
    return {}


def reader_role(chunks: Iterable[bytes], limit: int, outlets: list[Outlet], controls: Controls, piece_lines: int) -> dict:
    """Lines from stdin/files/S3 (`chunks` of whole lines); `limit` 0 = all."""
    fanout = Fanout(outlets, controls, piece_lines)
    read = 0
    try:
        fanout.begin()
        for chunk in chunks:
            lines = count_lines(chunk)
            if limit and read + lines > limit:
                chunk, lines = chunk[:cut(bytes(chunk), limit - read)], limit - read
            if not fanout.wait_until_due(read) or not fanout.write(chunk, lines, read):
                break
            read += lines
            if limit and read >= limit:
                break
    finally:
        fanout.close()
    return {}
