"""glibc's malloc told to keep freed batch buffers for reuse: every command
and every child process sets it first. Its own module, with nothing but
ctypes, so that a command that starts no process (help, `report`,
`compare`) does not import multiprocessing for it."""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Batches are about a megabyte: glibc would map and unmap (or grow and trim
# the heap for) every one of them, paying page faults each time. Keeping up
# to this much freed memory for reuse costs no growth: it is bounded by the
# largest batches in flight, not by the length of a run.
KEEP_FREED_BYTES = 256 << 20


def keep_freed_memory() -> None:
    """Linux/glibc: reuse freed batch buffers instead of returning them to the OS."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, 64 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
    except (OSError, AttributeError):
        pass
