"""Batches of lines written to one output in batch order, by one process or
by N generator processes.

    worker A: claim 0 ── render ── write 0 ── claim 2 ── render ── (wait for 1) ── write 2
    worker B: claim 1 ── render ──────── (wait for 0) ── write 1 ── claim 3 ...

Batch i depends only on the seed and i, so the output is the same whatever N
is, and whole batches (whole lines) are the unit: nothing is torn or
interleaved. A worker claims the next batch nobody has, and writes it
straight to the inherited output file descriptor once every batch before it
is written; no process copies another's bytes, and the parent only watches.
A worker holds at most AHEAD batches, so memory stays flat however long the
run.

The output never ends in a torn line: when a write fails (a full disk), a
worker dies or Ctrl-C lands mid-write, a regular file is cut back to the end
of the last whole batch, and `lines` counts exactly the lines it holds.

As in the harness (run/supervisor.py), the workers are forked, here from a
parent that has already built the line factory: a `generate -P 2` of two million
lines lasts about half a second, and a spawned worker would spend a good part
of that importing numpy and building the same pools again. The parent has no
threads at that point, and the workers only render and write.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import gc
import multiprocessing as mp
import os
import stat
import time
from collections import Counter, deque
from multiprocessing.connection import wait
from typing import Any, BinaryIO, Callable, Iterator

from generators.factory import Batch, LineFactory, LineSpec
from harness.run.child import run_child
from harness.run.controls import WAIT_SLICE
from harness.transport.claims import Claims, batch_size
from harness.errors import RunFailed

JOIN_SECONDS = 5.0
AHEAD = 3  # batches a worker may hold rendered, waiting for the batches before them to be written
# shared state: go on / stop (within WAIT_SLICE) / the reader went away / a write failed (errno in `errno`)
RUNNING, STOP, CLOSED, FAILED = 0, 1, 2, 3


def batch_plan(lines: int, batch_lines: int) -> Iterator[tuple[int, int]]:
    """(batch index, line count) for a run of `lines` lines; 0 is endless."""
    index = 0
    while n := batch_size(index, lines, batch_lines):
        yield index, n
        index += 1


class WriteFailed(Exception):
    """A write to the output failed (the message is the system's reason);
    the output was cut back to the whole batches written before it."""


class Shared(ctypes.Structure):
    """In memory the workers share. `claimed` and `last` change under the
    turn's lock; `lines`, `bytes`, `errno` and `next` only by the worker
    writing."""

    _fields_ = [("lines", ctypes.c_int64), ("bytes", ctypes.c_int64), ("state", ctypes.c_int64),
                ("errno", ctypes.c_int64),
                ("claimed", ctypes.c_int64),  # batches handed out so far
                ("next", ctypes.c_int64),  # the batch to write next
                ("last", ctypes.c_double)]  # --realtime: when the latest claimed batch's time window ended


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_batch(fd: int, batch: Batch, shared: Shared) -> bool:
    """Write a whole batch and count it in `shared`; when that fails, say
    why in `shared.state` and return False."""
    try:
        write_all(fd, batch.data)
    except BrokenPipeError:
        shared.state = CLOSED
        return False
    except OSError as error:
        shared.state, shared.errno = FAILED, error.errno or errno.EIO
        return False
    shared.lines += batch.lines
    shared.bytes += len(batch.data)
    return True


def whole_batches_start(fd: int) -> int | None:
    """Where the output's first batch goes, if it is a regular file that can
    be cut back; None for a pipe or terminal. Opened for appending (`>>`),
    writes go to its end, whatever the current position says."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return None
    if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
        return os.fstat(fd).st_size
    return os.lseek(fd, 0, os.SEEK_CUR)


class Worker:
    """One generator process: claims the next batch nobody has, renders it,
    and writes it once every batch before it is written. It claims up to
    AHEAD batches ahead while another writes, and claims whatever comes next,
    so a worker that the machine slows down claims fewer: two run at the sum
    of their speeds, not at twice the slower one's (with batches dealt out
    in turn, they did)."""

    def __init__(self, factory: LineFactory, lines: int, shared: Shared, turn: Any, fd: int, truth: Any = None) -> None:
        self.factory, self.shared, self.turn, self.fd, self.truth = factory, shared, turn, fd, truth
        spec = factory.spec
        self.claims = Claims(turn, shared, lines, spec.batch_lines, spec.realtime)  # `shared` holds its state too
        self.window = self.claims.window_clock()
        if self.window is not None:
            factory.clock = self.window
        self.bad: Counter[str] = Counter()

    def run(self) -> dict[str, int]:
        """The bad lines by kind that this worker wrote."""
        shared, pending = self.shared, deque[tuple[int, Batch]]()
        while shared.state == RUNNING:
            if pending and shared.next == pending[0][0]:
                self.write(*pending.popleft())
            elif len(pending) < AHEAD and (claim := self.claims.claim(self.window, self.stopped)) is not None:
                pending.append((claim[0], self.factory.render(*claim)))
            elif not pending:
                break
            else:
                with self.turn:
                    self.turn.wait_for(lambda: shared.next == pending[0][0] or shared.state != RUNNING, WAIT_SLICE)
        return dict(self.bad)

    def stopped(self) -> bool:
        return self.shared.state != RUNNING

    def write(self, index: int, batch: Batch) -> None:
        shared = self.shared
        if write_batch(self.fd, batch, shared):
            self.bad.update(batch.bad)
            if self.truth is not None:  # in line order: the turn is still ours
                self.truth.add(index * self.factory.spec.batch_lines, batch.marks)
        with self.turn:
            shared.next = index + 1
            self.turn.notify_all()


def worker(factory: LineFactory, lines: int, shared: Shared, turn: Any, fd: int, truth: Any = None) -> dict[str, int]:
    return Worker(factory, lines, shared, turn, fd, truth).run()


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
        shared = Shared() if self.processes == 1 else mp.get_context("fork").RawValue(Shared)
        try:
            if self.processes == 1:
                self._alone(factory, shared, fd, progress)
            else:
                self._together(factory, shared, fd, progress)
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

    def _together(self, factory: LineFactory, shared: Shared, fd: int, progress: Callable[[int], None]) -> None:
        """Returns once every worker has stopped, whatever stopped them."""
        context = mp.get_context("fork")
        turn = context.Condition()
        gc.freeze()  # the workers' collector then leaves the inherited pools' pages unshared
        workers: list[tuple[Any, Any]] = []
        try:
            for rank in range(self.processes):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=run_child, name=f"generator-{rank}", daemon=True,
                                          args=(send, worker, factory, self.goal, shared, turn, fd, self.truth))
                process.start()
                send.close()
                workers.append((receive, process))
            waiting = dict(workers)
            try:
                self._watch(waiting, shared, progress)
            except KeyboardInterrupt:
                shared.state = STOP  # each worker stops within WAIT_SLICE and reports
                self._watch(waiting, shared, progress)
        finally:
            gc.unfreeze()
            self._end(workers, shared)  # nobody writes any more

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


def cut_back(fd: int, start: int | None, shared: Shared) -> None:
    """Cut a regular file back to the end of the whole batches written."""
    if start is not None:
        os.ftruncate(fd, start + shared.bytes)
