"""Lines to standard output, as they are (bytes, newline-terminated).

One producer only: writes from several processes to one pipe may interleave
past PIPE_BUF, which would tear lines."""

from __future__ import annotations

import os

from sinks.base import NoOptions as Options
from sinks.base import Synchronous
from sinks.base import no_arguments as add_arguments
from sinks.base import no_options as options
from sinks.base import nothing_to_check as check

NAME = "stdout"
HELP = "write lines to standard output"
MAX_PRODUCERS = 1
__all__ = ["NAME", "HELP", "MAX_PRODUCERS", "Options", "add_arguments", "options", "check", "create"]


class StdoutSink(Synchronous):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def send(self, data: bytes, lines: int, intended: float) -> None:
        if self.closed:
            self.acks.add(intended, 0, lines, "stdout closed")
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(1, view):]
        except BrokenPipeError:
            # The reader went away (`| head`): what is left is counted, not lost silently.
            self.closed = True
            self.acks.add(intended, 0, lines, "stdout closed")
            return
        self.acks.add(intended, lines)


def create(options: Options, producer: int, producers: int) -> StdoutSink:
    return StdoutSink()
