"""Accepts and counts: the harness's own ceiling, with no delivery cost."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from sinks.base import Ack, Acks

NAME = "null"
HELP = "discard lines (measures the harness itself)"


@dataclass(frozen=True)
class Options:
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def options(args: argparse.Namespace) -> Options:
    return Options()


def check(options: Options) -> None:
    pass


class NullSink:
    def __init__(self) -> None:
        self.acks = Acks()

    def open(self) -> None:
        pass

    def send(self, data: bytes, lines: int, intended: float) -> None:
        self.acks.add(intended, lines)

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        return self.acks.take()

    def close(self, timeout: float) -> list[Ack]:
        return self.acks.take()


def create(options: Options, producer: int, producers: int) -> NullSink:
    return NullSink()
