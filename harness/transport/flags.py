"""Flags the processes of a run share (stop, abort, go, ...), safe whichever
process is killed.

multiprocessing.Event guards its state with a lock and a condition: a child
killed by SIGKILL while it holds that lock (inside `wait` or `is_set`, which
roles call every few milliseconds) leaves every other process blocked on it
for ever, the supervisor included. A flag here is one aligned 4-byte word in
shared memory that only ever goes from 0 to 1: setting and reading it take
no lock, so a death at any instant leaves it readable.

Waiting sleeps in the kernel on the word itself (Linux's futex: the kernel
wakes every waiter when `set` asks it to, and a waiter that would sleep on a
word already set returns at once), so a flag set is seen within
microseconds, and a waiter dies holding nothing. The run's start and end go
through three flags in turn (go, then stop or the producers' end, then
metrics_done): sleeping in 10 ms steps instead, as the first version did,
cost a run about 15 ms of its wall time on average, a tenth of a short
run's start. Elsewhere, or where the system call is refused, waiting sleeps
in steps of POLL_SECONDS (it never spins).
"""

from __future__ import annotations

import ctypes
import errno
import os
import time
from typing import Any

POLL_SECONDS = 0.01
# futex(2)'s system call number where it is known; other machines poll.
SYS_FUTEX = {"x86_64": 202, "aarch64": 98}
FUTEX_WAIT, FUTEX_WAKE = 0, 1  # not FUTEX_PRIVATE_FLAG: the word is shared between processes
WAKE_ALL = 0x7FFFFFFF


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _futex() -> Any:
    """libc's syscall() bound to futex(2), or None where there is none."""
    number = SYS_FUTEX.get(os.uname().machine) if hasattr(os, "uname") else None
    if number is None:
        return None
    try:
        syscall = ctypes.CDLL(None, use_errno=True).syscall
    except (OSError, AttributeError):
        return None
    syscall.restype = ctypes.c_long

    def futex(address: int, op: int, value: int, timeout: Any = None) -> int:
        return syscall(ctypes.c_long(number), ctypes.c_void_p(address), ctypes.c_int(op), ctypes.c_int(value),
                       timeout, None, ctypes.c_int(0))

    return futex


FUTEX = _futex()


class Flags:
    """A set of named flags in one shared array, handed to children as
    Process arguments (a RawArray pickles while spawning)."""

    def __init__(self, context: Any, names: tuple[str, ...]) -> None:
        words = context.RawArray(ctypes.c_int32, len(names))
        self.flags = {name: Flag(words, i) for i, name in enumerate(names)}

    def __getitem__(self, name: str) -> Flag:
        return self.flags[name]


class Flag:
    """The Event calls the roles use (set, is_set, wait), without a lock."""

    def __init__(self, words: Any, index: int) -> None:
        self._words = words
        self._index = index

    def set(self) -> None:
        self._words[self._index] = 1
        if FUTEX is not None:
            FUTEX(self._address(), FUTEX_WAKE, WAKE_ALL)

    def is_set(self) -> bool:
        return self._words[self._index] != 0

    def wait(self, timeout: float) -> bool:
        """True once set; False when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._sleep(left)
        return True

    def _sleep(self, most: float) -> None:
        """Until set, woken or `most` seconds pass (or a signal comes), whichever is first."""
        if FUTEX is not None:
            whole = int(most)
            if FUTEX(self._address(), FUTEX_WAIT, 0, ctypes.byref(_Timespec(whole, int((most - whole) * 1e9)))) == 0:
                return
            if ctypes.get_errno() in (errno.EAGAIN, errno.ETIMEDOUT, errno.EINTR):
                return
        time.sleep(min(most, POLL_SECONDS))  # futex refused (a sandbox's filter): poll

    def _address(self) -> int:
        # Here, not kept: a spawned child rebuilds the array at an address of its own.
        return ctypes.addressof(self._words) + self._index * ctypes.sizeof(ctypes.c_int32)
