"""Lines to standard output, as they are (bytes, newline-terminated).

One producer only: writes from several processes to one pipe may interleave
past PIPE_BUF, which would tear lines."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from sinks.base import Ack, Acks

NAME = "stdout"
HELP = "write lines to standard output"
MAX_PRODUCERS = 1


@dataclass(frozen=True)
class Options:
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def options(args: argparse.Namespace) -> Options:
    return Options()


def check(options: Options) -> None:
    pass


class StdoutSink:
    def __init__(self) -> None:
        self.acks = Acks()
        self.closed = False

    def open(self) -> None:
        pass

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

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        return self.acks.take()

    def close(self, timeout: float) -> list[Ack]:
        return self.acks.take()


def create(options: Options, producer: int, producers: int) -> StdoutSink:
    return StdoutSink()
