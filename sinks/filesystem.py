"""Lines to files in a directory, optionally compressed and split every N lines.

Names sort by time and never collide across producers or runs, and hold no
colons: logstorm-20261128T235624Z-ab12cd-p000-00000001.log.gz
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import lzma
import os
from dataclasses import dataclass
from typing import BinaryIO, Callable

from harness.errors import UserError
from harness.options import number
from sinks.base import Synchronous, cut, new_run_id

NAME = "filesystem"
HELP = "write lines to files in a directory (alias: file)"


def _zstd(path: str) -> BinaryIO:
    import zstandard

    return zstandard.open(path, "wb")


COMPRESSORS: dict[str, tuple[str, Callable[[str], BinaryIO]]] = {
    "none": (".log", lambda path: open(path, "wb")),
    "gzip": (".log.gz", lambda path: gzip.open(path, "wb", compresslevel=6)),
    "bzip": (".log.bz2", lambda path: bz2.open(path, "wb")),
    "lzma": (".log.xz", lambda path: lzma.open(path, "wb")),
    "zstd": (".log.zst", _zstd),
}


@dataclass(frozen=True)
class Options:
    path: str
    linecount: int  # 0: one file per producer
    compression: str
    run_id: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", default="logstorm-out", help="directory for the files, created if missing (default logstorm-out)")
    parser.add_argument("-c", "--linecount", type=number(int, 0), default=0, metavar="N", help="start a new file every N lines (default: one file)")
    parser.add_argument("-z", "--compression", choices=[c for c in COMPRESSORS if c != "none"], default=None,
                        help="compress the files")


def options(args: argparse.Namespace) -> Options:
    return Options(path=args.path, linecount=args.linecount, compression=args.compression or "none", run_id=new_run_id())


def check(options: Options) -> None:
    """Make the directory now: a run must not fail at its first flush."""
    try:
        os.makedirs(options.path, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create directory {options.path}: {error.strerror}") from None
    if not os.access(options.path, os.W_OK):
        raise UserError(f"directory {options.path} is not writable")


class FileSink(Synchronous):
    def __init__(self, options: Options, producer: int) -> None:
        super().__init__()
        self.options = options
        self.producer = producer
        self.file: BinaryIO | None = None
        self.sequence = 0
        self.in_file = 0

    def _next_file(self) -> BinaryIO:
        suffix, opener = COMPRESSORS[self.options.compression]
        self.sequence += 1
        name = f"logstorm-{self.options.run_id}-p{self.producer:03d}-{self.sequence:08d}{suffix}"
        self.in_file = 0
        return opener(os.path.join(self.options.path, name))

    def send(self, data: bytes, lines: int, intended: float) -> None:
        limit = self.options.linecount
        try:
            at, left = 0, lines
            while left:
                if self.file is None:
                    self.file = self._next_file()
                take = left if not limit else min(left, limit - self.in_file)
                end = len(data) if take == left else cut(data, take, at)
                self.file.write(memoryview(data)[at:end])
                self.in_file += take
                at, left = end, left - take
                if limit and self.in_file >= limit:
                    self.file.close()
                    self.file = None
        except OSError as error:
            self.acks.add(intended, lines - left, left, error.strerror or "OSError")
            return
        self.acks.add(intended, lines)

    def finish(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def create(options: Options, producer: int, producers: int) -> FileSink:
    return FileSink(options, producer)
