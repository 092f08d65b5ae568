"""Ring throughput against multiprocessing.Queue and os.pipe, same batches.

Two spawned processes per transport move ~1M lines of 216 bytes in 64 KiB
batches (303 lines, with the ring's header fields). The reader times from
the moment both sides are attached and told to go until it has seen the end
of the stream; process start-up is not counted. Each transport copies twice
(writer into the ring or kernel, out again into a new buffer).

    python -m tests.bench.test_ring_bench [--lines N] [--rounds R]

prints MB/s per transport (median of the rounds) and the ratios, and exits 1
when the targets are missed (ring >= 2x Queue, ring >= 0.9x pipe). Under
pytest each transport is one benchmark (`--benchmark-enable` to time them).
"""

from __future__ import annotations

import argparse
import fcntl
import multiprocessing as mp
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

import pytest

from harness.transport.ring import HEADER, Ring

LINE_BYTES = 216
BATCH_LINES = 64 * 1024 // LINE_BYTES  # 303 lines, 65,448 bytes
LINES = 1_000_000
PIPE_BYTES = 1 << 20  # F_SETPIPE_SZ; the unprivileged maximum here
RING_BYTES = PIPE_BYTES  # the same buffering as the pipe
SPAWN = mp.get_context("spawn")


def batch() -> bytes:
    return (b"x" * (LINE_BYTES - 1) + b"\n") * BATCH_LINES


# Each transport: a sender and a receiver, set up before the clock starts.
# send(data, count) writes `count` batches and ends the stream; receive()
# returns (lines, bytes) once the stream has ended.

def ring_sender(handle) -> Callable[[bytes, int], None]:
    ring = Ring.attach(handle)

    def send(data: bytes, count: int) -> None:
        for seq in range(count):
            ring.write(data, BATCH_LINES, 0.0, seq)
        ring.close_writer()

    return send


def ring_receiver(handle) -> Callable[[], tuple[int, int]]:
    ring = Ring.attach(handle)

    def receive() -> tuple[int, int]:
        lines = size = 0
        try:
            while True:
                got = ring.read()
                lines, size = lines + got.lines, size + len(got.data)
        except EOFError:
            return lines, size

    return receive


def queue_sender(queue) -> Callable[[bytes, int], None]:
    def send(data: bytes, count: int) -> None:
        for seq in range(count):
            queue.put((data, BATCH_LINES, 0.0, seq))
        queue.put(None)

    return send


def queue_receiver(queue) -> Callable[[], tuple[int, int]]:
    def receive() -> tuple[int, int]:
        lines = size = 0
        while (got := queue.get()) is not None:
            lines, size = lines + got[1], size + len(got[0])
        return lines, size

    return receive


def pipe_sender(connection) -> Callable[[bytes, int], None]:
    fd = connection.fileno()
    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def send(data: bytes, count: int) -> None:
        for seq in range(count):
            record = [HEADER.pack(len(data), BATCH_LINES, 0.0, seq), data]
            if os.writev(fd, record) != HEADER.size + len(data):
                raise OSError("short write to a blocking pipe")
        connection.close()

    return send


def pipe_receiver(connection) -> Callable[[], tuple[int, int]]:
    fd = connection.fileno()

    def read_exactly(n: int) -> bytearray | None:
        buffer = bytearray(n)
        view, got = memoryview(buffer), 0
        while got < n:
            chunk = os.readv(fd, [view[got:]])
            if chunk == 0:
                return None
            got += chunk
        return buffer

    def receive() -> tuple[int, int]:
        lines = size = 0
        while (header := read_exactly(HEADER.size)) is not None:
            length, count, _, _ = HEADER.unpack(header)
            lines, size = lines + count, size + len(read_exactly(length))
        return lines, size

    return receive


TRANSPORTS = {"ring": (ring_sender, ring_receiver), "queue": (queue_sender, queue_receiver),
              "pipe": (pipe_sender, pipe_receiver)}


def sender(transport: str, end, ready, go, count: int) -> None:
    send = TRANSPORTS[transport][0](end)
    ready.release()
    go.wait()
    send(batch(), count)


def receiver(transport: str, end, ready, go, results) -> None:
    receive = TRANSPORTS[transport][1](end)
    ready.release()
    go.wait()
    start = time.perf_counter()
    lines, size = receive()
    results.put((lines, size, time.perf_counter() - start))


@dataclass
class Transfer:
    """Two attached processes waiting for `go`."""

    go: object
    results: object
    processes: list
    ring: Ring | None


@dataclass(frozen=True)
class Result:
    lines: int
    bytes: int
    seconds: float

    @property
    def mb_per_second(self) -> float:
        return self.bytes / self.seconds / 1e6


def prepare(transport: str, lines: int) -> Transfer:
    ready, go, results = SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
    ring = Ring.create(RING_BYTES, SPAWN) if transport == "ring" else None
    if ring is not None:
        ends = (ring.handle, ring.handle)
    elif transport == "queue":
        queue = SPAWN.Queue()
        ends = (queue, queue)
    else:
        receiving, sending = SPAWN.Pipe(duplex=False)
        ends = (sending, receiving)
    processes = [SPAWN.Process(target=sender, args=(transport, ends[0], ready, go, lines // BATCH_LINES)),
                 SPAWN.Process(target=receiver, args=(transport, ends[1], ready, go, results))]
    for process in processes:
        process.start()
    if transport == "pipe":
        for end in ends:
            end.close()  # the children hold the pipe now; EOF comes when the sender closes
    for _ in processes:
        if not ready.acquire(timeout=60):
            raise RuntimeError(f"{transport} benchmark processes did not start")
    return Transfer(go, results, processes, ring)


def finish(transfer: Transfer) -> Result:
    transfer.go.set()
    try:
        return Result(*transfer.results.get(timeout=120))
    finally:
        for process in transfer.processes:
            process.join(60)
        if transfer.ring is not None:
            transfer.ring.close()


def move(transport: str, lines: int = LINES) -> Result:
    return finish(prepare(transport, lines))


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_throughput(benchmark, transport: str) -> None:
    results = []
    benchmark.pedantic(lambda transfer: results.append(finish(transfer)),
                       setup=lambda: ((prepare(transport, LINES),), {}), rounds=3 if benchmark.enabled else 1)
    last = results[-1]
    benchmark.extra_info.update(mb_per_second=round(last.mb_per_second), lines_per_second=round(last.lines / last.seconds))
    assert (last.lines, last.bytes) == (LINES // BATCH_LINES * BATCH_LINES, LINES // BATCH_LINES * len(batch()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.test_ring_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=LINES)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    runs: dict[str, list[Result]] = {name: [] for name in TRANSPORTS}
    for _ in range(args.rounds):
        for name in TRANSPORTS:  # interleaved, so that a noisy moment hits every transport
            runs[name].append(move(name, args.lines))
    speed = {name: statistics.median(r.mb_per_second for r in results) for name, results in runs.items()}
    for name, results in runs.items():
        lines_per_second = statistics.median(r.lines / r.seconds for r in results)
        rounds = ", ".join(f"{r.mb_per_second:.0f}" for r in results)
        print(f"{name:6} {speed[name]:7.0f} MB/s  {lines_per_second / 1e6:5.2f}M lines/s  (rounds: {rounds} MB/s)")
    versus_queue, versus_pipe = speed["ring"] / speed["queue"], speed["ring"] / speed["pipe"]
    met = versus_queue >= 2 and versus_pipe >= 0.9
    print(f"ring/queue {versus_queue:.2f}x (target >= 2)  ring/pipe {versus_pipe:.2f}x (target >= 0.9): "
          f"{'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
