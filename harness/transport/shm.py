"""Shared-memory segments without a name, so that none can outlive a run.

A segment is an anonymous memory file (memfd_create) mapped shared. It has
no name in /dev/shm: the kernel frees it when the last process that maps it
is gone, whatever ended them. A named segment (multiprocessing's
SharedMemory) stays until someone unlinks it, and the one that would after a
crash, multiprocessing's resource tracker, is one more interpreter started
by every run, and dies with the rest when the whole process group is killed
(kill -9 of the group, a container stopped), leaving the segments in
/dev/shm.

A forked child inherits the descriptor (a `Ref`'s number is valid there as
it is). A spawned child gets a duplicate with its arguments, as
multiprocessing passes descriptors while it spawns; a Ref cannot travel
any other way (a queue, a pipe, another host).
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from multiprocessing import context


@dataclass(frozen=True)
class Ref:
    """What another process needs to map a segment: its descriptor and size."""

    fd: int
    size: int

    def __reduce__(self) -> tuple:
        # As multiprocessing's own DupFd while spawning; its other way (a
        # thread serving descriptors) would leave a thread in the supervisor,
        # whose later children then could not be forked.
        popen = context.get_spawning_popen()
        if popen is None:
            raise TypeError("a shared-memory segment can only be handed to a process as it is started")
        return _rebuild, (popen.DupFd(popen.duplicate_for_child(self.fd)), self.size)


def _rebuild(duplicate: object, size: int) -> Ref:
    return Ref(duplicate.detach(), size)


class Segment:
    """One process's mapping of a segment and a descriptor of its own (the
    one its `ref` hands to children); `buf` is its memory."""

    def __init__(self, fd: int, size: int) -> None:
        self.ref = Ref(fd, size)
        self._map = mmap.mmap(fd, size)
        self.buf = memoryview(self._map)

    @classmethod
    def create(cls, size: int, label: str) -> Segment:
        """A new zeroed segment of `size` bytes; `label` names it in /proc/PID/maps ("/memfd:LABEL")."""
        return cls._owning(os.memfd_create(label, os.MFD_CLOEXEC), size, grow=True)

    @classmethod
    def attach(cls, ref: Ref) -> Segment:
        return cls._owning(os.dup(ref.fd), ref.size)

    @classmethod
    def _owning(cls, fd: int, size: int, grow: bool = False) -> Segment:
        """A segment holding `fd`, which is closed if it cannot be mapped
        (a run that fails to start leaves no descriptor in its caller)."""
        try:
            if grow:
                os.ftruncate(fd, size)
            return cls(fd, size)
        except BaseException:
            os.close(fd)
            raise

    def close(self) -> None:
        """Unmap. Fails (BufferError) while a view into `buf` is still alive."""
        self.buf.release()
        self._map.close()
        if self.ref.fd >= 0:
            os.close(self.ref.fd)
            self.ref = Ref(-1, self.ref.size)
