"""A test sink that delivers at most --throttle-rate lines per second per
producer (like a broker at its ceiling): below that rate it keeps up, above
it every send waits its turn, so the achieved rate stays at the ceiling and
latency climbs. find-rate's tests look for that ceiling."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from sinks.base import Synchronous

NAME = "throttle"
HELP = "null sink with a fixed ceiling in lines/s (tests only)"


@dataclass(frozen=True)
class Options:
    rate: float  # lines/s per producer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--throttle-rate", type=float, default=5000.0, help="lines/s each producer can deliver")


def options(args: argparse.Namespace) -> Options:
    return Options(args.throttle_rate)


def check(options: Options) -> None:
    pass


class ThrottleSink(Synchronous):
    def __init__(self, options: Options) -> None:
        super().__init__()
        self.seconds_per_line = 1.0 / options.rate
        self.free_at = 0.0  # when the sink can take the next batch

    def send(self, data: bytes, lines: int, intended: float) -> None:
        # A batch waits until the sink has worked off the one before (so on
        # average it takes `rate` lines/s), then is taken at once.
        now = time.monotonic()
        if self.free_at > now:
            time.sleep(self.free_at - now)
            now = self.free_at
        self.free_at = now + lines * self.seconds_per_line
        self.acks.add(intended, lines)


def create(options: Options, producer: int, producers: int) -> ThrottleSink:
    return ThrottleSink(options)
