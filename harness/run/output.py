"""Whole batches written to one output file descriptor, and the state the
writers share (run/ordered.py's one process or run/workers.py's N): what
was written, whether to go on, and how the last write failed."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat

from generators.factory import Batch

# shared state: go on / stop (within WAIT_SLICE) / the reader went away / a write failed (errno in `errno`)
RUNNING, STOP, CLOSED, FAILED = 0, 1, 2, 3


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


def cut_back(fd: int, start: int | None, shared: Shared) -> None:
    """Cut a regular file back to the end of the whole batches written."""
    if start is not None:
        os.ftruncate(fd, start + shared.bytes)
