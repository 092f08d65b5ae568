"""Batches of lines written to one output in batch order, by one process or
by N generator processes taking turns.

    worker 0: render batch 0 ── wait turn ── write ── pass turn ─┐
    worker 1: render batch 1 ── wait turn ── write ── pass turn ─┤
    worker 0: render batch 2 ── wait turn ...  <─────────────────┘

Batch i depends only on the seed and i, so the output is the same whatever N
is, and whole batches (whole lines) are the unit: nothing is torn or
interleaved. Each worker writes its own batches straight to the inherited
output file descriptor, so no process copies another's bytes; the parent only
watches. A worker holds at most AHEAD batches, so memory stays flat however
long the run.

Unlike the harness, which spawns, the workers here are forked from a parent
that has already built the line factory: a `generate -P 2` of two million
lines lasts about half a second, and a spawned worker would spend a good part
of that importing numpy and building the same pools again. The parent has no
threads at that point, and the workers only render and write.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import stat
import time
from collections import Counter, deque
from multiprocessing.connection import wait
from typing import Any, BinaryIO, Callable, Iterator

from generators.clock import ClockInTurn
from generators.factory import Batch, LineFactory, LineSpec
from harness.child import run_child
from harness.errors import RunFailed
from harness.turns import clocks_in_turn, ring

JOIN_SECONDS = 5.0
AHEAD = 3  # batches a worker may hold rendered while it waits for its turn
RUNNING, STOP, CLOSED = 0, 1, 2  # shared state: go on / stop at the next turn / the reader went away


def batch_plan(lines: int, batch_lines: int) -> Iterator[tuple[int, int]]:
    """(batch index, line count) for a run of `lines` lines; 0 is endless."""
    index = 0
    while lines == 0 or index * batch_lines < lines:
        yield index, batch_lines if lines == 0 else min(batch_lines, lines - index * batch_lines)
        index += 1


class Shared(ctypes.Structure):
    """In memory the workers share; only the worker holding the turn adds to
    `lines` and `bytes` (whole batches written so far)."""

    _fields_ = [("lines", ctypes.c_int64), ("bytes", ctypes.c_int64), ("state", ctypes.c_int64)]


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def worker(factory: LineFactory, lines: int, rank: int, processes: int, turns: tuple[Any, Any],
           clock: ClockInTurn | None, shared: Shared, fd: int) -> dict[str, int]:
    """Render every `processes`-th batch from `rank` and write each when its turn comes
    (`turns`: this worker's, the next one's); the bad lines by kind that were
    written are the report. While the turn is elsewhere, the worker renders
    up to AHEAD batches ahead rather than wait: batches take unequal times,
    and lock-step would idle a fifth of it. (Not with --realtime's `clock`:
    a batch is stamped when rendered, and one rendered ahead would hold up
    the others' turns at the clock.)"""
    mine, following = turns
    if clock is not None:
        factory.clock = clock
    ahead = 1 if clock is not None else AHEAD
    plan = ((index, n) for index, n in batch_plan(lines, factory.spec.batch_lines) if index % processes == rank)
    pending: deque[Batch] = deque()
    bad: Counter[str] = Counter()

    def stop_early() -> dict[str, int]:
        if clock is not None:
            clock.stop()
        return dict(bad)

    while True:
        if not (pending and mine.acquire(block=len(pending) >= ahead)):
            step = next(plan, None)
            if step is not None:
                pending.append(factory.render(*step))
                continue
            if not pending:
                return dict(bad)
            mine.acquire()
        try:
            if shared.state != RUNNING:
                return stop_early()
            batch = pending.popleft()
            try:
                write_all(fd, batch.data)
            except BrokenPipeError:
                shared.state = CLOSED
                return stop_early()
            shared.lines += batch.lines
            shared.bytes += len(batch.data)
            bad.update(batch.bad)
        finally:
            following.release()


class OrderedOutput:
    """Write `lines` lines of `spec` (0: until Ctrl-C or a closed pipe) to
    `out`; `lines` and `bad` tell what was written, also after Ctrl-C."""

    def __init__(self, spec: LineSpec, lines: int, processes: int, out: BinaryIO) -> None:
        self.spec, self.goal, self.processes, self.out = spec, lines, processes, out
        self.lines = 0
        self.bad: Counter[str] = Counter()
        self.startup = 0.0  # seconds spent building the line factory

    def run(self, progress: Callable[[int], None]) -> None:
        """Raises BrokenPipeError when the reader of the output went away."""
        started = time.monotonic()
        factory = LineFactory(self.spec)
        self.startup = time.monotonic() - started
        try:
            if self.processes == 1:
                self._alone(factory, progress)
            else:
                self._together(factory, progress)
        except KeyboardInterrupt:
            pass
        self.out.flush()

    def _alone(self, factory: LineFactory, progress: Callable[[int], None]) -> None:
        for index, n in batch_plan(self.goal, self.spec.batch_lines):
            batch = factory.render(index, n)
            self.out.write(batch.data)
            self.lines += batch.lines
            self.bad.update(batch.bad)
            progress(self.lines)

    def _together(self, factory: LineFactory, progress: Callable[[int], None]) -> None:
        context = mp.get_context("fork")
        turns = ring(context, self.processes)
        clocks = clocks_in_turn(context, self.processes, self.spec.realtime)
        shared = context.RawValue(Shared)
        fd = self.out.fileno()
        start = os.lseek(fd, 0, os.SEEK_CUR) if stat.S_ISREG(os.fstat(fd).st_mode) else None
        self.out.flush()
        gc.freeze()  # the workers' collector then leaves the inherited pools' pages unshared
        workers: list[tuple[Any, Any]] = []
        try:
            for rank in range(self.processes):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=run_child, name=f"generator-{rank}", daemon=True,
                                          args=(send, worker, factory, self.goal, rank, self.processes, turns[rank], clocks[rank],
                                                shared, fd))
                process.start()
                send.close()
                workers.append((receive, process))
            waiting = dict(workers)
            try:
                self._watch(waiting, shared, progress)
            except KeyboardInterrupt:
                shared.state = STOP  # each worker stops at its next turn and reports
                self._watch(waiting, shared, progress)
        except RunFailed as failure:
            self._end(workers, shared)  # nobody writes any more
            if start is not None:  # the dead worker may have written part of a batch
                os.ftruncate(fd, start + shared.bytes)
            raise RunFailed(f"{failure}; {shared.lines:,} whole lines were written before it") from None
        finally:
            gc.unfreeze()
            self.lines = shared.lines
            self._end(workers, shared)
        if shared.state == CLOSED:
            raise BrokenPipeError

    def _watch(self, waiting: dict[Any, Any], shared: Shared, progress: Callable[[int], None]) -> None:
        """Until every worker has reported; a failed one stops the others."""
        while waiting:
            for receive in wait(list(waiting), timeout=0.5):
                process = waiting.pop(receive)
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    process.join(JOIN_SECONDS)
                    kind, payload = "error", f"exited with status {process.exitcode}"
                receive.close()
                if kind != "done":
                    shared.state = STOP
                    raise RunFailed(f"{process.name}: {payload}")
                self.bad.update(payload)
            progress(shared.lines)

    def _end(self, workers: list[tuple[Any, Any]], shared: Shared) -> None:
        for receive, process in workers:
            process.join(JOIN_SECONDS if shared.state == RUNNING else 1.0)
            if process.is_alive():  # stuck waiting for the turn of a worker that died
                process.terminate()
                process.join(JOIN_SECONDS)
            receive.close()
