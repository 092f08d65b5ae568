"""`generate -P N`'s worker processes (N > 1): each claims the next batch,
renders it, and writes it to the shared output once every batch before it
is written (run/ordered.py holds the order and the output's rules).

The workers are forked from a parent that has already built the line
factory: a `generate -P 2` of two million lines lasts about half a second,
and a spawned worker would spend a good part of that importing numpy and
building the same pools again. The parent has no threads at that point, and
the workers only render and write."""

from __future__ import annotations

import gc
import multiprocessing as mp
from collections import Counter, deque
from multiprocessing.connection import wait
from typing import Any, Callable

from generators.factory import Batch, LineFactory
from harness.errors import RunFailed
from harness.run.child import run_child
from harness.run.controls import WAIT_SLICE
from harness.run.output import RUNNING, STOP, Shared, write_batch
from harness.transport.claims import Claims

JOIN_SECONDS = 5.0
AHEAD = 3  # batches a worker may hold rendered, waiting for the batches before them to be written


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


class Together:
    """N workers writing one output in batch order; `bad` (the caller's)
    gets the bad lines by kind that they wrote."""

    def __init__(self, processes: int, goal: int, truth: Any, bad: Counter[str]) -> None:
        self.processes, self.goal, self.truth, self.bad = processes, goal, truth, bad
        context = mp.get_context("fork")
        self.shared = context.RawValue(Shared)
        self.turn = context.Condition()

    def run(self, factory: LineFactory, shared: Shared, fd: int, progress: Callable[[int], None]) -> None:
        """Returns once every worker has stopped, whatever stopped them."""
        context = mp.get_context("fork")
        gc.freeze()  # the workers' collector then leaves the inherited pools' pages unshared
        workers: list[tuple[Any, Any]] = []
        waiting: dict[Any, Any] = {}  # the workers that have not reported yet
        try:
            for rank in range(self.processes):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=run_child, name=f"generator-{rank}", daemon=True,
                                          args=(send, worker, factory, self.goal, shared, self.turn, fd, self.truth))
                process.start()
                send.close()
                workers.append((receive, process))
                waiting[receive] = process
            self._watch(waiting, shared, progress)
        except KeyboardInterrupt:  # also while the workers start: those started stop with the rest
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
            if process.is_alive():  # stuck on the turn's lock, which a killed worker held: only SIGKILL ends it
                process.kill()
                process.join(JOIN_SECONDS)
            receive.close()
