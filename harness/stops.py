"""Ctrl-C, SIGTERM and SIGHUP as requests to stop: counted, handed to a callback.

The signals are unblocked as well as handled: a process inherits its
launcher's signal mask, and some launchers block them (a Ray worker blocks
SIGINT, so a shard's run could not be stopped; multiprocessing's resource
tracker, which runs once started, happens to unblock them, and hid that
while the runs had one).

A child forked inside the block inherits the handler; it ignores the
signals there until it sets its own (harness/run/child.py ignores them: a
signal sent to the whole process group, by timeout(1) or systemd, reaches
the parent too, and the parent decides how its children stop)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any, Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """Within the block, each stop signal adds one to `count` and calls
    `on_signal(count)`. Outside the main thread (where handlers cannot be
    set) it does nothing."""

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self.on_signal, self.count = on_signal, 0
        self.previous: dict[int, Any] = {}
        self.mask: set[int] | None = None
        self.owner = os.getpid()

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
            self.mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if os.getpid() != self.owner:
            return
        self.count += 1
        self.on_signal(self.count)

    def __exit__(self, *exc: Any) -> None:
        if self.mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
