"""Lines to standard output, as they are (bytes, newline-terminated).

One producer only: writes from several processes to one pipe may interleave
past PIPE_BUF, which would tear lines."""

from __future__ import annotations

import os

from sinks.base import NoOptions as Options
from sinks.base import ReaderGone, Synchronous
from sinks.base import no_arguments as add_arguments
from sinks.base import no_options as options
from sinks.base import nothing_to_check as check

NAME = "stdout"
HELP = "write lines to standard output"
MAX_PRODUCERS = 1
__all__ = ["NAME", "HELP", "MAX_PRODUCERS", "Options", "add_arguments", "options", "check", "create"]


class StdoutSink(Synchronous):
    def send(self, data: bytes, lines: int, intended: float) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(1, view):]
        except BrokenPipeError:
            written = len(data) - len(view)
            whole = data.count(b"\n", 0, written)
            if whole:
                self.acks.add(intended, whole)
            raise ReaderGone(whole, "stdout was closed by its reader") from None
        self.acks.add(intended, lines)


def create(options: Options, producer: int, producers: int) -> StdoutSink:
    return StdoutSink()
