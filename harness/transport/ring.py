"""A bounded single-producer/single-consumer ring of batches in shared memory.

    segment:  [head | writer closed] [tail | reader closed] [data: capacity bytes]
               writer's cache line    reader's cache line
    record:   length u64 | lines u64 | created f64 | seq u64 | payload

head and tail count bytes ever written and read, so head - tail is the fill
and neither wraps in practice. A record never wraps round the end of the
data area: one that would is written at its start instead, and the bytes
left at the end (with a PAD header, when one fits there) go with it, freed
when it is read. So a borrowed batch is always one view of the ring's
memory: a wrapped one had to be joined into a fresh buffer, which for a
1 MB batch cost 0.65 ms, and one batch in eight of an 8 MiB ring wrapped
(most of a null producer's work). The price is a smaller largest batch,
half the data area less a header (`Ring.largest`); the generators cut
larger ones into pieces.

Waiting never spins: two counting semaphores carry one token per event.
`items` gets a token per published record (and one at end of stream), so
the reader blocks exactly while the ring is empty. `space` gets a token per
record read (and one when the reader goes away); the writer remembers the
sizes of the records it wrote and takes tokens only when the next record
does not fit, freeing the oldest record's bytes per token. Semaphore
operations are full memory barriers, so a token is never seen before the
bytes it announces.

head and tail are stored through aligned `ctypes.c_uint64` views: one 8-byte
store each, never seen half-written by the other process (unlike
`struct.pack_into`, which copies byte by byte).
"""

from __future__ import annotations

import ctypes
import struct
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.synchronize import Semaphore
from typing import Any

from harness.transport.shm import Ref, Segment

HEADER = struct.Struct("<QQdQ")  # payload length, lines, created, seq
HEAD, WRITER_CLOSED, TAIL, READER_CLOSED = 0, 8, 64, 72
DATA = 128
PAD = (1 << 64) - 1  # a header's length that says: the rest of the data area is skipped


def take(semaphore: Semaphore, timeout: float | None) -> bool:
    """One token, waiting at most `timeout` (None: for ever). A timeout of 0
    only tries: CPython's acquire(True, 0) makes a futex wait that has
    already timed out, a system call and a context switch, which a producer
    polling its rings made four times a batch (5,000 switches in a 5M-line
    run, each taking a core from a generator)."""
    if timeout is not None and timeout <= 0:
        return semaphore.acquire(False)
    return semaphore.acquire(True, timeout)


@dataclass(frozen=True)
class RingHandle:
    """What another process needs to attach. Picklable as a Process argument
    only (the segment's descriptor and the semaphores are passed while
    spawning, not through a queue)."""

    segment: Ref
    capacity: int
    items: Semaphore
    space: Semaphore


@dataclass(frozen=True, slots=True)
class RingBatch:
    data: bytes | memoryview  # a view into the ring when borrowed (Ring.borrow)
    lines: int
    created: float
    seq: int


class Ring:
    """One end (or both) of a ring. The writer calls write/close_writer, the
    reader read/close_reader; any attached process may call fill(), and the
    supervisor may call close_writer/close_reader for a process that died."""

    def __init__(self, handle: RingHandle, segment: Segment) -> None:
        self.handle = handle
        self._segment = segment
        self._capacity = handle.capacity
        buf = segment.buf
        self._head = ctypes.c_uint64.from_buffer(buf, HEAD)
        self._writer_closed = ctypes.c_uint64.from_buffer(buf, WRITER_CLOSED)
        self._tail = ctypes.c_uint64.from_buffer(buf, TAIL)
        self._reader_closed = ctypes.c_uint64.from_buffer(buf, READER_CLOSED)
        self._data = buf[DATA:DATA + handle.capacity]
        # Writer side: sizes of records written and not yet known to be read.
        self._unread: deque[int] = deque()
        self._used = 0
        # Reader side: where the next record starts, and the records borrowed (size, data).
        self._cursor = self._tail.value
        self._lent: deque[tuple[int, bytes | memoryview]] = deque()

    @classmethod
    def create(cls, capacity: int, context: Any) -> Ring:
        """A new ring of `capacity` data bytes, for processes of `context`
        (a multiprocessing context: its semaphores must match the children's
        start method). Its memory goes with the last process that maps it."""
        if capacity <= 2 * HEADER.size:
            raise ValueError(f"ring capacity {capacity} must exceed two {HEADER.size}-byte record headers")
        segment = Segment.create(DATA + capacity, "logstorm-ring")
        handle = RingHandle(segment.ref, capacity, context.Semaphore(0), context.Semaphore(0))
        return cls(handle, segment)

    @classmethod
    def attach(cls, handle: RingHandle) -> Ring:
        return cls(handle, Segment.attach(handle.segment))

    def write(self, data: bytes | memoryview, lines: int, created: float, seq: int,
              timeout: float | None = None) -> bool:
        """Append one batch, blocking while the ring is full. False on timeout
        or when the reader has closed; ValueError if the batch is larger
        than `largest`."""
        payload = memoryview(data).cast("B")
        if payload.nbytes > self.largest:
            raise ValueError(f"a batch of {payload.nbytes} bytes does not fit a ring of {self._capacity} bytes "
                             f"(at most {self.largest})")
        if self._reader_closed.value:
            return False
        head = self._head.value
        start = head % self._capacity
        skip = self._capacity - start if start + HEADER.size + payload.nbytes > self._capacity else 0
        size = skip + HEADER.size + payload.nbytes
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._used + size > self._capacity:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not take(self.handle.space, wait) or self._reader_closed.value:
                return False
            self._used -= self._unread.popleft()
        if skip >= HEADER.size:
            HEADER.pack_into(self._data, start, PAD, 0, 0.0, 0)
        at = (start + skip) % self._capacity
        HEADER.pack_into(self._data, at, payload.nbytes, lines, created, seq)
        self._data[at + HEADER.size:at + HEADER.size + payload.nbytes] = payload
        self._head.value = head + size
        self._unread.append(size)
        self._used += size
        self.handle.items.release()
        return True

    def read(self, timeout: float | None = None) -> RingBatch | None:
        """The oldest batch, copied out of the ring, blocking while the ring
        is empty. None on timeout; EOFError once the writer has closed and
        everything was read."""
        batch = self.borrow(timeout)
        if batch is not None:
            batch = RingBatch(bytes(batch.data), batch.lines, batch.created, batch.seq)
            self.release()
        return batch

    def borrow(self, timeout: float | None = None) -> RingBatch | None:
        """Like read(), but the batch's data is a view into the ring, and
        its bytes stay the reader's until release(): the producer of a sink that only reads a
        batch while sending it saves a copy of every byte (for a null sink,
        most of its work). Batches are released in the order borrowed."""
        if not take(self.handle.items, timeout):
            return None
        at = self._cursor
        if at == self._head.value:
            # Only the end-of-stream token comes with an empty ring; put it
            # back so that every later read sees the end too.
            self.handle.items.release()
            raise EOFError("ring writer closed")
        start = at % self._capacity
        room = self._capacity - start
        header = HEADER.unpack_from(self._data, start) if room >= HEADER.size else (PAD,)
        skip = room if header[0] == PAD else 0
        if skip:
            header = HEADER.unpack_from(self._data, 0)
        length, lines, created, seq = header
        begin = (start + skip) % self._capacity + HEADER.size
        data = self._data[begin:begin + length]
        size = skip + HEADER.size + length
        self._cursor = at + size
        self._lent.append((size, data))
        return RingBatch(data, lines, created, seq)

    def release(self) -> None:
        """Hand the oldest borrowed batch's bytes back to the writer. Its view
        is released too: a use after this fails loudly instead of reading
        bytes the writer has overwritten."""
        size, data = self._lent.popleft()
        if isinstance(data, memoryview):
            data.release()
        self._tail.value += size
        self.handle.space.release()

    def close_writer(self) -> None:
        """End of stream: the reader gets what is left, then EOFError."""
        self._writer_closed.value = 1
        self.handle.items.release()

    def close_reader(self) -> None:
        """The reader is gone: a blocked or later write returns False."""
        self._reader_closed.value = 1
        self.handle.space.release()

    @property
    def reader_closed(self) -> bool:
        """Whether write() returns False because the reader is gone (not a timeout)."""
        return bool(self._reader_closed.value)

    @property
    def largest(self) -> int:
        """The largest batch a write takes: half the data area less a
        header, so that a batch fits whatever room the end of the area has left."""
        return self._capacity // 2 - HEADER.size

    @property
    def writer_closed(self) -> bool:
        return bool(self._writer_closed.value)

    def fill(self) -> float:
        """Used fraction of the data area, 0..1 (a snapshot for metrics)."""
        tail = self._tail.value  # tail first: head only grows, so head - tail >= 0
        return min((self._head.value - tail) / self._capacity, 1.0)

    def close(self) -> None:
        """Release the views and this process's mapping (the memory stays
        while another process maps it)."""
        if self._data is None:
            return
        # ctypes views and the memoryview slices export the mapping's buffer;
        # Segment.close() fails while any of them is alive.
        for _, data in self._lent:
            if isinstance(data, memoryview):
                data.release()
        self._lent.clear()
        del self._head, self._writer_closed, self._tail, self._reader_closed
        self._data.release()
        self._data = None
        self._segment.close()

    def __del__(self) -> None:
        # A ring dropped without close() must still release its views, or
        # its mapping stays for the life of the process.
        if getattr(self, "_data", None) is not None:
            self.close()
