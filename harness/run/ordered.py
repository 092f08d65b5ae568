"""Batches of lines written to one output in batch order, by one process or
by N generator processes.

    worker A: claim 0 ── render ── write 0 ── claim 2 ── render ── (wait for 1) ── write 2
    worker B: claim 1 ── render ──────── (wait for 0) ── write 1 ── claim 3 ...

Batch i depends only on the seed and i, so the output is the same whatever N
is, and whole batches (whole lines) are the unit: nothing is torn or
interleaved. A worker claims the next batch nobody has, and writes it
straight to the inherited output file descriptor once every batch before it
is written; no process copies another's bytes, and the parent only watches.
A worker holds at most AHEAD batches (run/workers.py), so memory stays flat
however long the run.

The output never ends in a torn line: when a write fails (a full disk), a
worker dies or Ctrl-C lands mid-write, a regular file is cut back to the end
of the last whole batch, and `lines` counts exactly the lines it holds.

With more than one process, the workers are run/workers.py's, forked from
this process once it has built the line factory.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any, BinaryIO, Callable, Iterator

from generators.factory import LineFactory, LineSpec
from harness.transport.claims import batch_size
from harness.errors import RunFailed
from harness.run.output import CLOSED, FAILED, Shared, cut_back, whole_batches_start, write_batch


def batch_plan(lines: int, batch_lines: int) -> Iterator[tuple[int, int]]:
    """(batch index, line count) for a run of `lines` lines; 0 is endless."""
    index = 0
    while n := batch_size(index, lines, batch_lines):
        yield index, n
        index += 1


class WriteFailed(Exception):
    """A write to the output failed (the message is the system's reason);
    the output was cut back to the whole batches written before it."""


class OrderedOutput:
    """Write `lines` lines of `spec` (0: until Ctrl-C or a closed pipe) to
    `out`; `lines` and `bad` tell what was written, also after Ctrl-C."""

    def __init__(self, spec: LineSpec, lines: int, processes: int, out: BinaryIO, truth: Any = None) -> None:
        self.spec, self.goal, self.processes, self.out = spec, lines, processes, out
        self.truth = truth  # a harness.report.truth.TruthWriter: each written batch's bad lines
        self.lines = 0
        self.bad: Counter[str] = Counter()
        self.startup = 0.0  # seconds spent building the line factory

    def run(self, progress: Callable[[int], None]) -> None:
        """Raises BrokenPipeError when the reader of the output went away,
        WriteFailed when a write failed, RunFailed when a worker died."""
        started = time.monotonic()
        factory = LineFactory(self.spec)
        self.startup = time.monotonic() - started
        self.out.flush()  # from here on, batches go straight to the file descriptor
        fd = self.out.fileno()
        start = whole_batches_start(fd)
        if self.processes == 1:
            shared, write = Shared(), self._alone
        else:
            # Here, not at the top: `generate` with one process starts none,
            # and need not import multiprocessing (a tenth of its start).
            from harness.run.workers import Together

            together = Together(self.processes, self.goal, self.truth, self.bad)
            shared, write = together.shared, together.run
        try:
            write(factory, shared, fd, progress)
        except KeyboardInterrupt:
            cut_back(fd, start, shared)  # alone, Ctrl-C may land in the middle of a batch
        except RunFailed as failure:
            cut_back(fd, start, shared)  # the dead worker may have written part of a batch
            raise RunFailed(f"{failure}; {shared.lines:,} whole lines were written before it") from None
        finally:
            self.lines = shared.lines
        if shared.state == FAILED:
            cut_back(fd, start, shared)
            raise WriteFailed(os.strerror(shared.errno))
        if shared.state == CLOSED:
            raise BrokenPipeError

    def _alone(self, factory: LineFactory, shared: Shared, fd: int, progress: Callable[[int], None]) -> None:
        for index, n in batch_plan(self.goal, self.spec.batch_lines):
            batch = factory.render(index, n)
            if not write_batch(fd, batch, shared):
                return
            self.bad.update(batch.bad)
            if self.truth is not None:
                self.truth.add(index * self.spec.batch_lines, batch.marks)
            progress(shared.lines)
