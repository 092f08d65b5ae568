"""Shared-memory segments that only their creator unlinks.

Python 3.11 registers every `SharedMemory`, created or attached, with the
process's resource tracker, and a tracker unlinks what is registered with it
when it shuts down. Processes started by `multiprocessing` share their
parent's tracker, where a second registration is harmless, but unregistering
there would drop the creator's registration too (and the tracker prints a
KeyError traceback when the creator unlinks). So an attacher unregisters
only when its tracker is not the creator's: that keeps a crashed creator's
segments cleaned up by the tracker, and an unrelated attaching process from
unlinking the segment when it exits.
"""

from __future__ import annotations

import os
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

Tracker = tuple[int, int]


def tracker() -> Tracker:
    """Identity of this process's resource tracker (its pipe's device and inode)."""
    status = os.fstat(resource_tracker.getfd())
    return status.st_dev, status.st_ino


def create(size: int) -> tuple[SharedMemory, Tracker]:
    """A new segment of at least `size` bytes, and the tracker that will clean it up."""
    return SharedMemory(create=True, size=size), tracker()


def attach(name: str, creator: Tracker) -> SharedMemory:
    shm = SharedMemory(name=name)
    if tracker() != creator:
        resource_tracker.unregister(shm._name, "shared_memory")  # noqa: SLF001 - the name with its leading slash
    return shm
