"""Batches from N generator processes, delivered in batch order.

    parent ──recv── worker 0: batches 0, N, 2N, ...
           ──recv── worker 1: batches 1, N+1, ...

Batch i depends only on the seed and i, so the output is the same whatever
N is, and whole batches (whole lines) are the unit: nothing is torn or
interleaved. A worker blocks on its pipe while the parent writes, so memory
stays at a few batches however long the run.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Iterator

from generators.factory import Batch, LineFactory, LineSpec

JOIN_SECONDS = 5.0


def batch_plan(lines: int, batch_lines: int) -> Iterator[tuple[int, int]]:
    """(batch index, line count) for a run of `lines` lines; 0 is endless."""
    index = 0
    while lines == 0 or index * batch_lines < lines:
        yield index, batch_lines if lines == 0 else min(batch_lines, lines - index * batch_lines)
        index += 1


def worker(spec: LineSpec, lines: int, rank: int, processes: int, conn) -> None:
    """Render every `processes`-th batch, starting at `rank`, into `conn`."""
    factory = LineFactory(spec)
    try:
        for index, n in batch_plan(lines, spec.batch_lines):
            if index % processes == rank:
                batch = factory.render(index, n)
                conn.send((batch.data, batch.lines, batch.bad))
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        conn.close()


def ordered_batches(spec: LineSpec, lines: int, processes: int) -> Iterator[Batch]:
    if processes == 1:
        factory = LineFactory(spec)
        for index, n in batch_plan(lines, spec.batch_lines):
            yield factory.render(index, n)
        return
    context = mp.get_context("spawn")
    pipes = [context.Pipe(duplex=False) for _ in range(processes)]
    workers = [context.Process(target=worker, args=(spec, lines, rank, processes, send), name=f"generator-{rank}", daemon=True)
               for rank, (_, send) in enumerate(pipes)]
    for process in workers:
        process.start()
    for _, send in pipes:
        send.close()
    try:
        for index, _ in batch_plan(lines, spec.batch_lines):
            receive = pipes[index % processes][0]
            try:
                data, n, bad = receive.recv()
            except EOFError:
                failed = workers[index % processes]
                failed.join(JOIN_SECONDS)
                raise RuntimeError(f"{failed.name} exited with status {failed.exitcode}") from None
            yield Batch(data, n, bad)
    finally:
        for receive, _ in pipes:
            receive.close()
        for process in workers:
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(JOIN_SECONDS)
