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

import numpy as np

from generators.clock import WallClock
from generators.factory import Batch, LineFactory, LineSpec
from harness.child import run_child
from harness.errors import RunFailed

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

    _fields_ = [("lines", ctypes.c_int64), ("bytes", ctypes.c_int64), ("state", ctypes.c_int64),
                ("last", ctypes.c_double)]  # --realtime: when the latest stamped batch ended


class StampInTurn:
    """--realtime with several workers: batch i's times start where batch
    i-1's ended, whichever worker stamps it, because the workers take the
    wall clock in turns, in batch order. (Each with a clock of its own, a
    batch rendered a moment early would go back in time.)"""

    def __init__(self, shared: Shared, mine: Any, following: Any) -> None:
        self.clock = WallClock(memory=shared)
        self.mine, self.following = mine, following

    def times(self, first_line: int, n: int, rng: np.random.Generator) -> np.ndarray:
        self.mine.acquire()
        try:
            return self.clock.times(first_line, n, rng)
        finally:
            self.following.release()


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def worker(factory: LineFactory, lines: int, rank: int, turns: Turns, shared: Shared, fd: int) -> dict[str, int]:
    """Render every N-th batch from `rank` and write each when its turn comes;
    the bad lines by kind that were written are the report. While the turn
    is elsewhere, the worker renders up to AHEAD batches ahead rather than
    wait: batches take unequal times, and lock-step would idle a fifth of it.
    (Not with --realtime: a batch is stamped when rendered, and one rendered
    ahead would hold up the clock's turns of the others.)"""
    mine, following = turns.write[rank], turns.write[(rank + 1) % len(turns.write)]
    ahead = AHEAD
    if factory.spec.realtime:
        factory.clock = StampInTurn(shared, turns.stamp[rank], turns.stamp[(rank + 1) % len(turns.stamp)])
        ahead = 1
    plan = ((index, n) for index, n in batch_plan(lines, factory.spec.batch_lines) if index % len(turns.write) == rank)
    pending: deque[Batch] = deque()
    bad: Counter[str] = Counter()
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
                return turns.leave(rank, bad)
            batch = pending.popleft()
            try:
                write_all(fd, batch.data)
            except BrokenPipeError:
                shared.state = CLOSED
                return turns.leave(rank, bad)
            shared.lines += batch.lines
            shared.bytes += len(batch.data)
            bad.update(batch.bad)
        finally:
            following.release()


class Turns:
    """One semaphore per worker for writing, passed round in batch order;
    and, for --realtime, the same for taking the clock."""

    def __init__(self, context: Any, processes: int) -> None:
        self.write = [context.Semaphore(1 if rank == 0 else 0) for rank in range(processes)]
        self.stamp = [context.Semaphore(1 if rank == 0 else 0) for rank in range(processes)]

    def leave(self, rank: int, bad: Counter[str]) -> dict[str, int]:
        """A worker stopping early hands on the clock, so that none waits for
        a batch that will not be stamped; its report is `bad`."""
        self.stamp[(rank + 1) % len(self.stamp)].release()
        return dict(bad)


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
        turns = Turns(context, self.processes)
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
                                          args=(send, worker, factory, self.goal, rank, turns, shared, fd))
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
