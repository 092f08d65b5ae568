"""A test sink: accepts lines like the null sink, but its first send at or
after STALL_AT seconds into the run blocks for STALL_SECONDS (a sink that
hangs), so tests can see that the lines due meanwhile are reported late."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from sinks.base import Synchronous

NAME = "stall"
HELP = "null sink that stalls once (tests only)"


@dataclass(frozen=True)
class Options:
    stall_after: float  # wall-clock time of the stall
    stall_seconds: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stall-after", type=float, default=1.5, help="seconds from now")
    parser.add_argument("--stall-seconds", type=float, default=1.0)


def options(args: argparse.Namespace) -> Options:
    return Options(time.time() + args.stall_after, args.stall_seconds)


def check(options: Options) -> None:
    pass


class StallSink(Synchronous):
    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options
        self.stalled = False

    def send(self, data: bytes, lines: int, intended: float) -> None:
        if not self.stalled and time.time() >= self.options.stall_after:
            self.stalled = True
            time.sleep(self.options.stall_seconds)
        self.acks.add(intended, lines)


def create(options: Options, producer: int, producers: int) -> StallSink:
    return StallSink(options)
