"""Flags the processes of a run share (stop, abort, go, ...), safe whichever
process is killed.

multiprocessing.Event guards its state with a lock and a condition: a child
killed by SIGKILL while it holds that lock (inside `wait` or `is_set`, which
roles call every few milliseconds) leaves every other process blocked on it
for ever, the supervisor included. A flag here is one aligned 8-byte word in
shared memory that only ever goes from 0 to 1: setting and reading it take
no lock, so a death at any instant leaves it readable. Waiting for a flag
sleeps in steps of POLL_SECONDS (it never spins), so a flag set is seen
within that time.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any

POLL_SECONDS = 0.01


class Flags:
    """A set of named flags in one shared array, handed to children as
    Process arguments (a RawArray pickles while spawning)."""

    def __init__(self, context: Any, names: tuple[str, ...]) -> None:
        words = context.RawArray(ctypes.c_int64, len(names))
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

    def is_set(self) -> bool:
        return self._words[self._index] != 0

    def wait(self, timeout: float) -> bool:
        """True once set; False when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, POLL_SECONDS))
        return True
