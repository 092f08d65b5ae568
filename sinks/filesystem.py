"""Lines to files in a directory, optionally compressed and split every N lines.

Names sort by time and never collide across producers or runs, and hold no
colons: logstorm-20261128T235624Z-ab12cd-p000-00000001.log.gz

What a write error (a full disk: ENOSPC) leaves, whatever the compression:
every file holds only whole lines, and "delivered" counts exactly them.

- Writes are unbuffered (os.pwrite at the end of the last whole line), so a
  line is acknowledged only once the kernel took all of its bytes: nothing is
  held back that could fail later, at a flush or close. Delivered means
  written to the filesystem, not synced to the device (no fsync).
- Uncompressed: when a write fails part-way, the file is cut back
  (ftruncate) to the last whole line that reached it. Those lines are
  delivered; the rest of the send failed, with the errno name as the reason.
- Compressed: each send (each part of it that goes to one file) is written
  as one self-contained member: a gzip member, a bzip2 or xz stream, a zstd
  frame. Concatenated members are a valid file for gzip, bzip2, xz and zstd
  and for Python's gzip, bz2 and lzma modules (python-zstandard's readers
  need read_across_frames=True). A member that fails part-way is cut off
  whole, so all lines of that part failed. The price: small sends (a paced,
  slow run) compress less well than one long stream would.
- After a failure, later sends are still attempted, at the cut: once the disk
  frees up, lines are delivered again. Each send that fails counts failed
  with its own reason.
- A file that ends without a single line (its first write failed) is removed.
"""

from __future__ import annotations

import argparse
import bz2
import errno
import functools
import gzip
import lzma
import os
from dataclasses import dataclass
from typing import Callable

from harness.errors import UserError
from harness.options import number
from sinks.base import Synchronous, cut, new_run_id

NAME = "filesystem"
HELP = "write lines to files in a directory (alias: file)"

Member = Callable[[memoryview], bytes]  # lines -> one self-contained compressed member


def _zstd() -> Member:
    import zstandard

    return zstandard.ZstdCompressor().compress


COMPRESSORS: dict[str, tuple[str, Callable[[], Member | None]]] = {
    "none": (".log", lambda: None),
    "gzip": (".log.gz", lambda: functools.partial(gzip.compress, compresslevel=6)),
    "bzip": (".log.bz2", lambda: bz2.compress),
    "lzma": (".log.xz", lambda: lzma.compress),
    "zstd": (".log.zst", _zstd),
}


@dataclass(frozen=True)
class Options:
    path: str
    linecount: int  # 0: one file per producer
    compression: str
    run_id: str
    preamble: bytes = b""  # the format's header lines, at the top of each file (CloudFront's)


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


class Torn(Exception):
    """A write failed with `error`; `kept` of its lines are whole on disk."""

    def __init__(self, error: OSError, kept: int = 0) -> None:
        super().__init__(error)
        self.error, self.kept = error, kept


def reason(error: OSError) -> str:
    """The errno name (ENOSPC), as short and greppable as librdkafka's reasons."""
    return errno.errorcode.get(error.errno or 0, type(error).__name__)


class OutputFile:
    """One file, written unbuffered at `size`: the end of its last whole line
    (or member), which is also where it is cut back to when a write fails."""

    def __init__(self, path: str, member: Member | None) -> None:
        self.path, self.member = path, member
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as error:
            raise Torn(error) from None
        self.size = self.lines = 0

    def append(self, data: memoryview, lines: int) -> None:
        """Write `lines` whole lines, or raise Torn with the file cut back."""
        chunk = data if self.member is None else memoryview(self.member(data))
        written = 0
        try:
            while written < len(chunk):
                written += os.pwrite(self.fd, chunk[written:], self.size + written)
        except OSError as error:
            raise Torn(error, self._cut_back(chunk, written)) from None
        self.size += written
        self.lines += lines

    def _cut_back(self, chunk: memoryview, written: int) -> int:
        """Truncate to the last whole line that reached the file; how many
        of this chunk's lines that keeps. Part of a compressed member is no
        use to a reader, so none of it is kept."""
        reached = b"" if self.member is not None else bytes(chunk[:written])
        keep = reached.rfind(b"\n") + 1
        os.ftruncate(self.fd, self.size + keep)
        kept = reached.count(b"\n", 0, keep)
        self.size += keep
        self.lines += kept
        return kept

    def close(self) -> None:
        os.close(self.fd)
        if not self.lines:
            os.unlink(self.path)


class FileSink(Synchronous):
    def __init__(self, options: Options, producer: int) -> None:
        super().__init__()
        self.options = options
        self.producer = producer
        self.suffix, make_member = COMPRESSORS[options.compression]
        self.member = make_member()
        self.file: OutputFile | None = None
        self.sequence = 0

    def _current(self) -> OutputFile:
        if self.file is None:
            self.sequence += 1
            name = f"logstorm-{self.options.run_id}-p{self.producer:03d}-{self.sequence:08d}{self.suffix}"
            self.file = OutputFile(os.path.join(self.options.path, name), self.member)
            if self.options.preamble:
                self.file.append(memoryview(self.options.preamble), 0)
        return self.file

    def send(self, data: bytes, lines: int, intended: float) -> None:
        limit = self.options.linecount
        view = memoryview(data)
        at = done = 0
        try:
            while done < lines:
                file = self._current()
                take = lines - done if not limit else min(lines - done, limit - file.lines)
                end = len(data) if done + take == lines else cut(data, take, at)
                file.append(view[at:end], take)
                at, done = end, done + take
                if limit and file.lines >= limit:
                    self.finish()
        except Torn as torn:
            done += torn.kept
            self.acks.add(intended, done, lines - done, reason(torn.error))
            return
        self.acks.add(intended, lines)

    def finish(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def create(options: Options, producer: int, producers: int) -> FileSink:
    return FileSink(options, producer)
