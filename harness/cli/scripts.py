"""The console scripts' entry points (and `python -m harness`): each runs its
command as main.py does, then leaves the process at once.

A command ends with its output written, its files closed, its children
joined and its segments closed; what the interpreter would still do on a
normal exit (tearing down every module, numpy's among them, and collecting
what is left) took 0.1-0.15 s of every command's wall time on this machine,
where most commands people type are short. So the process flushes its
standard streams and logging, then ends with os._exit. Where something else
may still own work for an exit hook (a child process still alive, Ray's
driver), it exits normally instead.

main.py's functions raise SystemExit as before, so tests and other callers
that run a command inside their own process keep their process."""

from __future__ import annotations

import os
import sys
from typing import Callable, NoReturn

from harness.cli import main as commands

# Modules whose exit hooks own work of their own: with any of them loaded, the exit is a normal one.
HOOKED = ("ray",)


def _quick(command: Callable[[], NoReturn]) -> Callable[[], NoReturn]:
    def entry() -> NoReturn:
        try:
            command()
        except SystemExit as done:
            status = done.code
        else:
            status = 0
        leave(status)

    entry.__doc__ = command.__doc__
    return entry


def leave(status: int | str | None) -> NoReturn:
    """End the process with `status` as SystemExit would, without the interpreter's teardown when safe."""
    if any(name in sys.modules for name in HOOKED) or _children_alive():
        sys.exit(status)
    if isinstance(status, str):  # sys.exit("message"): the message on stderr, status 1
        print(status, file=sys.stderr)
        status = 1
    if "logging" in sys.modules:  # only a command that loaded it has handlers to flush (`generate` has not)
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away, or the stream was closed
            pass
    os._exit(status or 0)


def _children_alive() -> bool:
    process = sys.modules.get("multiprocessing.process")
    return process is not None and bool(process.active_children())


logstorm = _quick(commands.main)
generate = _quick(commands.generate)
stream = _quick(commands.stream)
