"""Accepts and counts: the harness's own ceiling, with no delivery cost."""

from __future__ import annotations

from sinks.base import NoOptions as Options
from sinks.base import Synchronous
from sinks.base import no_arguments as add_arguments
from sinks.base import no_options as options
from sinks.base import nothing_to_check as check

NAME = "null"
HELP = "discard lines (measures the harness itself)"
__all__ = ["NAME", "HELP", "Options", "add_arguments", "options", "check", "create"]


class NullSink(Synchronous):
    borrows = True  # reads nothing of a batch: the producer hands over the ring's bytes, uncopied

    def send(self, data: bytes, lines: int, intended: float) -> None:
        self.acks.add(intended, lines)


def create(options: Options, producer: int, producers: int) -> NullSink:
    return NullSink()
