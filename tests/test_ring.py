"""The shared-memory ring: order, exact bytes, wrap-around, blocking in both
directions, end of stream, and no segment left behind."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import pickle
import random
import resource
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

import pytest

from harness.transport.ring import HEADER, Ring, RingBatch
from tests.fixtures.processes import left_over, segments

SPAWN = mp.get_context("spawn")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ring_of():
    rings = []

    def make(capacity: int) -> Ring:
        rings.append(Ring.create(capacity, SPAWN))
        return rings[-1]

    yield make
    for ring in rings:
        ring.close()


def batches(seed: int, count: int, largest: int) -> list[RingBatch]:
    """Deterministic batches of random bytes and sizes (0 included)."""
    rng = random.Random(seed)
    return [RingBatch(rng.randbytes(rng.randint(0, largest)), rng.randint(0, 1000), rng.random() * 1e9, seq)
            for seq in range(count)]


def write_all(handle, seed: int, count: int, largest: int) -> None:
    ring = Ring.attach(handle)
    for batch in batches(seed, count, largest):
        assert ring.write(batch.data, batch.lines, batch.created, batch.seq)
    ring.close_writer()
    ring.close()


def read_all(handle, results) -> None:
    ring = Ring.attach(handle)
    digest, count = hashlib.sha256(), 0
    try:
        while True:
            batch = ring.read()
            digest.update(batch.data + repr((batch.lines, batch.created, batch.seq)).encode())
            count += 1
    except EOFError:
        results.put((count, digest.hexdigest()))
    ring.close()


def report_fill(handle, results) -> None:
    ring = Ring.attach(handle)
    results.put(ring.fill())
    ring.close()


def run(target, *args) -> None:
    process = SPAWN.Process(target=target, args=args)
    process.start()
    process.join(60)
    assert process.exitcode == 0


def test_batches_come_out_in_order_with_their_headers(ring_of):
    ring = ring_of(1 << 16)
    sent = batches(1, 50, 500)
    for batch in sent:
        assert ring.write(batch.data, batch.lines, batch.created, batch.seq)
    assert [ring.read() for _ in sent] == sent


def test_a_batch_is_one_view_of_the_ring_wherever_the_end_of_its_area_falls(ring_of):
    # A capacity prime to the record sizes puts the end of the data area
    # everywhere inside headers and payloads in turn; the writer fills the
    # ring before each read, so the records skipped to the start sit among others.
    ring = ring_of(251)
    waiting: deque[RingBatch] = deque()

    def read_one() -> None:
        batch = ring.borrow(timeout=0)
        assert isinstance(batch.data, memoryview)  # never joined from two pieces
        assert RingBatch(bytes(batch.data), batch.lines, batch.created, batch.seq) == waiting.popleft()
        ring.release()

    for batch in batches(2, 3000, ring.largest):
        while not ring.write(batch.data, batch.lines, batch.created, batch.seq, timeout=0):
            read_one()
        waiting.append(batch)
    while waiting:
        read_one()
    assert ring.fill() == 0.0


def test_exact_bytes_cross_a_spawned_writer_process(ring_of):
    ring = ring_of(8192)  # small: the writer wraps and blocks many times
    process = SPAWN.Process(target=write_all, args=(ring.handle, 3, 500, 3000))
    process.start()
    received = []
    try:
        while True:
            received.append(ring.read(timeout=60))
    except EOFError:
        pass
    process.join(60)
    assert process.exitcode == 0
    assert received == batches(3, 500, 3000)


def test_exact_bytes_cross_a_spawned_reader_process(ring_of):
    ring = ring_of(4096)
    results = SPAWN.Queue()
    process = SPAWN.Process(target=read_all, args=(ring.handle, results))
    process.start()
    digest = hashlib.sha256()
    for batch in batches(4, 300, 4096 // 2 - HEADER.size):
        assert ring.write(batch.data, batch.lines, batch.created, batch.seq)
        digest.update(batch.data + repr((batch.lines, batch.created, batch.seq)).encode())
    ring.close_writer()
    assert results.get(timeout=60) == (300, digest.hexdigest())
    process.join(60)
    assert process.exitcode == 0


def test_a_full_ring_blocks_the_writer_until_the_reader_reads(ring_of):
    ring = ring_of(4 * (HEADER.size + 100))
    for seq in range(4):
        assert ring.write(b"x" * 100, 1, 0.0, seq)
    assert ring.fill() == 1.0
    assert not ring.write(b"x" * 100, 1, 0.0, 4, timeout=0)  # full: does not go in
    written = threading.Event()
    writer = threading.Thread(target=lambda: ring.write(b"y" * 100, 1, 0.0, 5) and written.set())
    writer.start()
    assert not written.wait(0.2)  # still blocked (a wrongly non-blocking write would have set it)
    assert ring.read().seq == 0
    assert written.wait(30)
    writer.join(30)
    assert [ring.read(timeout=0).seq for _ in range(4)] == [1, 2, 3, 5]


def test_a_borrowed_batch_keeps_its_bytes_until_released_and_fails_loudly_after(ring_of):
    ring = ring_of(2 * (HEADER.size + 100))
    assert ring.write(b"a" * 100, 1, 0.0, 0) and ring.write(b"b" * 100, 1, 0.0, 1)
    first, second = ring.borrow(timeout=0), ring.borrow(timeout=0)
    assert isinstance(first.data, memoryview)
    assert not ring.write(b"c" * 100, 1, 0.0, 2, timeout=0)  # borrowed bytes are not the writer's yet
    assert bytes(first.data) == b"a" * 100
    ring.release()
    assert ring.write(b"c" * 100, 1, 0.0, 2, timeout=0)  # into the first batch's bytes
    with pytest.raises(ValueError):
        bytes(first.data)  # released: never the bytes the writer has put there since
    assert bytes(second.data) == b"b" * 100
    ring.release()
    assert ring.read(timeout=0) == RingBatch(b"c" * 100, 1, 0.0, 2)


def test_an_empty_ring_blocks_the_reader_until_the_writer_writes(ring_of):
    ring = ring_of(1024)
    assert ring.read(timeout=0) is None
    got = []
    reader = threading.Thread(target=lambda: got.append(ring.read()))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive() and not got
    ring.write(b"line\n", 1, 1.5, 7)
    reader.join(30)
    assert got == [RingBatch(b"line\n", 1, 1.5, 7)]


def test_looking_into_an_empty_or_full_ring_without_waiting_does_not_give_up_the_core(ring_of):
    """A producer looks into each of its rings for a batch before it sleeps;
    each look that made the process sleep (a system call that timed out at
    once) took the core from a busy generator: 5,000 times in a 5M-line run."""
    empty, full = ring_of(1024), ring_of(1024)
    assert full.write(b"x" * full.largest, 1, 0.0, 0) and full.write(b"x" * full.largest, 1, 0.0, 1)
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw
    for _ in range(1000):
        assert empty.borrow(timeout=0) is None
        assert not full.write(b"y", 1, 0.0, 2, timeout=0)
    assert resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw - before < 50


def test_end_of_stream_comes_after_the_last_batch_and_stays(ring_of):
    ring = ring_of(1024)
    ring.write(b"a\n", 1, 0.0, 0)
    ring.write(b"b\n", 1, 0.0, 1)
    assert not ring.writer_closed
    ring.close_writer()
    assert ring.writer_closed
    assert [ring.read().data, ring.read().data] == [b"a\n", b"b\n"]
    for _ in range(2):
        with pytest.raises(EOFError):
            ring.read(timeout=0)


def test_closing_the_writer_wakes_a_blocked_reader(ring_of):
    ring = ring_of(1024)
    outcome = []

    def read() -> None:
        try:
            ring.read()
        except EOFError:
            outcome.append("eof")

    reader = threading.Thread(target=read)
    reader.start()
    ring.close_writer()
    reader.join(30)
    assert outcome == ["eof"]


def test_closing_the_reader_unblocks_the_writer(ring_of):
    ring = ring_of(2 * (HEADER.size + 100))
    ring.write(b"x" * 100, 1, 0.0, 0)
    ring.write(b"x" * 100, 1, 0.0, 1)
    outcome = []
    writer = threading.Thread(target=lambda: outcome.append(ring.write(b"x" * 100, 1, 0.0, 2)))
    writer.start()
    writer.join(0.2)
    assert writer.is_alive()
    ring.close_reader()
    writer.join(30)
    assert outcome == [False]
    assert ring.reader_closed  # so a writer can tell this from a timeout
    assert ring.write(b"z", 1, 0.0, 3) is False  # also when there would be room


def test_fill_is_readable_from_another_process(ring_of):
    ring = ring_of(1000)
    assert ring.fill() == 0.0
    ring.write(b"x" * (250 - HEADER.size), 1, 0.0, 0)
    results = SPAWN.Queue()
    run(report_fill, ring.handle, results)
    assert results.get(timeout=30) == pytest.approx(0.25)
    ring.read()
    assert ring.fill() == 0.0


def test_a_batch_larger_than_half_the_ring_is_refused_and_the_largest_fits_wherever_the_ring_is(ring_of):
    ring = ring_of(1000)
    assert ring.largest == 500 - HEADER.size
    with pytest.raises(ValueError, match="does not fit"):
        ring.write(b"x" * (ring.largest + 1), 1, 0.0, 0)
    for offset in range(0, 1000, 7):
        assert ring.write(b"o" * (offset % 400), 1, 0.0, 0)  # moves the end of the ring's contents
        ring.read()
        assert ring.write(b"x" * ring.largest, 1, 0.0, 1, timeout=0)
        assert len(ring.read().data) == ring.largest


def test_a_ring_has_no_name_and_its_memory_goes_with_the_last_process_that_maps_it():
    ring = Ring.create(4096, SPAWN)
    [inode] = segments(os.getpid())
    results = SPAWN.Queue()
    run(report_fill, ring.handle, results)  # an attacher came and went
    assert results.get(timeout=60) == 0.0
    attached = Ring.attach(ring.handle)
    ring.close()
    assert segments(os.getpid()) == {inode}  # the attacher's mapping keeps it
    attached.close()
    assert not left_over({inode})
    assert not [name for name in os.listdir("/dev/shm") if name.startswith("psm_")]  # no named segment, ours or another test's


def test_a_ring_handle_goes_only_to_a_process_being_started(ring_of):
    with pytest.raises(TypeError, match="as it is started"):
        pickle.dumps(ring_of(4096).handle)


def test_a_ring_for_forked_children_starts_no_resource_tracker_and_spawned_ones_get_it_too():
    script = (
        "import multiprocessing as mp, os\n"
        "from tests.test_ring import Ring, write_all\n"
        "if __name__ == '__main__':\n"
        "    for method in ('fork', 'spawn'):\n"
        "        context = mp.get_context(method)\n"
        "        ring = Ring.create(4096, context)\n"
        "        p = context.Process(target=write_all, args=(ring.handle, 5, 30, 1000)); p.start()\n"
        "        got = 0\n"
        "        while True:\n"
        "            try: got += ring.read(timeout=60) is not None\n"
        "            except EOFError: break\n"
        "        p.join(60); ring.close()\n"
        "        print(method, got, p.exitcode, [open(f'/proc/{c}/cmdline').read() for t in os.listdir('/proc/self/task')\n"
        "              for c in open(f'/proc/self/task/{t}/children').read().split()])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # The fork half runs first: a spawned child brings multiprocessing's own tracker with it.
    assert done.stdout.splitlines()[0] == "fork 30 0 []"
    assert done.stdout.splitlines()[1].startswith("spawn 30 0 ")


def test_a_producer_inbox_hands_over_an_earlier_batch_that_came_late(ring_of):
    """Two generators write at once at the start of a paced run: the one with
    the later batch may be quicker. A producer pacing that later batch must
    still get the earlier one as soon as it comes."""
    from harness.run.producer import Inbox

    first, second = ring_of(1 << 16), ring_of(1 << 16)
    inbox = Inbox([first.handle, second.handle], threading.Semaphore(0))
    second.write(b"line 4096\n", 1, 0.0, 4096, timeout=1)
    assert inbox.next(timeout=1).seq == 4096
    assert inbox.earlier(4096) is None
    first.write(b"line 0\n", 1, 0.0, 0, timeout=1)
    second.write(b"line 8192\n", 1, 0.0, 8192, timeout=1)
    assert inbox.earlier(4096).seq == 0
    assert inbox.earlier(4096) is None
    assert inbox.next(timeout=1).seq == 8192
    inbox.close()
