"""What every child process does first and last: ignore Ctrl-C, SIGTERM
and SIGHUP (sent to the whole process group, by a terminal, timeout(1) or
systemd, they reach the parent too, and the parent decides how its children
stop: a child killed mid-batch would tear a line), die with the supervisor,
and report how it ended over its pipe, with the error if it failed."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from typing import Any, Callable

from harness.allocator import keep_freed_memory
from harness.errors import describe
from harness.stops import SIGNALS

PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1


def settle_in(name: str) -> None:
    """Linux: show the role's name in ps/top (/proc/PID/comm), and SIGKILL
    this process when its parent dies, even by kill -9."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, name.encode()[:15])
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def run_child(report: Connection, role: Callable[..., Any], *args: Any) -> None:
    """Entry point of every child: `role(*args)` returns the payload sent back."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    settle_in(multiprocessing.current_process().name)
    keep_freed_memory()
    try:
        payload = role(*args)
    except BaseException as error:  # reported, then exit non-zero
        report.send(("error", describe(error)))
        report.close()
        os._exit(1)
    report.send(("done", payload))
    report.close()
