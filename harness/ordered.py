"""Batches from N generator processes, written out in batch order.

    parent <──ring 0── worker 0: batches 0, N, 2N, ...
           <──ring 1── worker 1: batches 1, N+1, ...

Batch i depends only on the seed and i, so the output is the same whatever
N is, and whole batches (whole lines) are the unit: nothing is torn or
interleaved. A worker blocks on its full ring while the parent writes, so
memory stays at a few batches however long the run.

Unlike the harness, which spawns, the workers here are forked from a parent
that has already built the line factory: a `generate -P 2` of two million
lines lasts about a second, and a spawned worker would spend half of that
importing numpy and building the same pools again. The parent has no
threads at that point, and the workers only render and write.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from typing import Any, Iterator

from generators.factory import LineFactory, LineSpec
from harness.child import run_child
from harness.controls import WAIT_SLICE
from harness.ring import Ring, RingHandle

JOIN_SECONDS = 5.0
RING_BYTES = 16 << 20


def batch_plan(lines: int, batch_lines: int) -> Iterator[tuple[int, int]]:
    """(batch index, line count) for a run of `lines` lines; 0 is endless."""
    index = 0
    while lines == 0 or index * batch_lines < lines:
        yield index, batch_lines if lines == 0 else min(batch_lines, lines - index * batch_lines)
        index += 1


def worker(factory: LineFactory, lines: int, rank: int, processes: int, handle: RingHandle) -> dict[str, int]:
    """Render every `processes`-th batch, from `rank`, into the ring; the bad
    lines by kind are the report."""
    spec = factory.spec
    ring = Ring.attach(handle)
    bad: Counter[str] = Counter()
    try:
        for index, n in batch_plan(lines, spec.batch_lines):
            if index % processes == rank:
                batch = factory.render(index, n)
                while not ring.write(batch.data, batch.lines, 0.0, index, timeout=WAIT_SLICE):
                    if ring.reader_closed:
                        return dict(bad)
                bad.update(batch.bad)
    finally:
        ring.close_writer()
        ring.close()
    return dict(bad)


class OrderedBatches:
    """Iterate (data, lines) in batch order; `bad` holds the corrupted lines
    by kind once the iteration is over."""

    def __init__(self, spec: LineSpec, lines: int, processes: int) -> None:
        self.spec, self.lines, self.processes = spec, lines, processes
        self.bad: Counter[str] = Counter()

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        factory = LineFactory(self.spec)
        if self.processes == 1:
            for index, n in batch_plan(self.lines, self.spec.batch_lines):
                batch = factory.render(index, n)
                self.bad.update(batch.bad)
                yield batch.data, batch.lines
            return
        yield from self._parallel(factory)

    def _parallel(self, factory: LineFactory) -> Iterator[tuple[bytes, int]]:
        context = mp.get_context("fork")
        rings = [Ring.create(RING_BYTES) for _ in range(self.processes)]
        workers: list[tuple[Any, Any]] = []
        try:
            for rank, ring in enumerate(rings):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=run_child, name=f"generator-{rank}", daemon=True,
                                          args=(send, worker, factory, self.lines, rank, self.processes, ring.handle))
                process.start()
                send.close()
                workers.append((process, receive))
            for index, _ in batch_plan(self.lines, self.spec.batch_lines):
                batch = self._next(rings, workers, index % self.processes)
                yield batch.data, batch.lines
            for _, receive in workers:
                kind, payload = receive.recv()
                if kind == "done":
                    self.bad.update(payload)
        finally:
            for ring in rings:
                ring.close_reader()
            for process, receive in workers:
                process.join(JOIN_SECONDS)
                if process.is_alive():
                    process.terminate()
                    process.join(JOIN_SECONDS)
                receive.close()
            for ring in rings:
                ring.close()
                ring.unlink()

    def _next(self, rings: list[Ring], workers: list[tuple[Any, Any]], rank: int):
        while True:
            try:
                batch = rings[rank].read(timeout=WAIT_SLICE)
            except EOFError:
                batch = None
            if batch is not None:
                return batch
            process, receive = workers[rank]
            if not process.is_alive() or receive.poll():
                kind, payload = receive.recv() if receive.poll() else ("error", f"exited with status {process.exitcode}")
                raise RuntimeError(f"{process.name}: {payload}")
