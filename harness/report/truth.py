"""The ground truth of a generated file: which lines are bad, of what kind.

One text line per bad line, after a header that says what the columns are:

    # logstorm truth 1: line kind hash (line numbers from 1; hash: blake2b-64 of the line's bytes without its newline)
    # format=apache seed=7 baddata=40
    3 bad_status 9f1c2e0a4b7d6e13
    8 truncated 03d1f7a2c9e4b580

A bad line is found again by the hash of its bytes, wherever it went (a
parser's accepted output or its dead letters), so `logstorm score` needs no
line numbers from the parser under test, and reads the rows in any order.

`generate` writes the file with plain os.write calls on one descriptor, so
that generator processes taking turns in line order (harness/run/ordered.py)
append to it in that order. In `logstorm run` each generator process opens
it for appending and writes each batch's rows with one write: the rows of a
batch stay together, and the batches come in the order they were rendered,
which with several generators (-g) is near, but not exactly, line order
(`sort -sn` puts the rows in line order, the header first).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from harness.errors import UserError

Mark = tuple[int, str, bytes]  # (row in the batch, kind, the line's bytes), as generators.factory makes them

VERSION = b"# logstorm truth 1: line kind hash"
HEADER = VERSION + b" (line numbers from 1; hash: blake2b-64 of the line's bytes without its newline)\n"


def line_hash(line: bytes) -> bytes:
    """The hash of one line (its newline, if any, left out), as 16 hex digits."""
    return hashlib.blake2b(line.removesuffix(b"\n"), digest_size=8).hexdigest().encode()


class TruthWriter:
    """Appends the bad lines of each batch written."""

    def __init__(self, fd: int, about: str | None = None) -> None:
        """`about`: what was generated, for the header; None to append to a file that has its header."""
        self.fd = fd
        if about is not None:
            self._write(HEADER + b"# " + about.encode() + b"\n")

    def add(self, first_line: int, marks: Iterable[Mark]) -> None:
        """`marks`: (row in the batch, kind, the line's bytes) of a batch whose first line is `first_line` (from 0)."""
        self._write(b"".join(b"%d %s %s\n" % (first_line + row + 1, kind.encode(), line_hash(line))
                             for row, kind, line in marks))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def close(self) -> None:
        os.close(self.fd)


def create_truth(path: str, spec: Any) -> TruthWriter:
    """A new truth file for the lines of `spec` (a generators.spec.LineSpec),
    its header written; its descriptor stays open for the writers that share it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None
    return TruthWriter(fd, f"format={spec.format} seed={spec.seed} baddata={spec.baddata:g}")


def append_truth(path: str) -> TruthWriter:
    """The truth file `create_truth` made, opened by one of a run's generator processes."""
    return TruthWriter(os.open(path, os.O_WRONLY | os.O_APPEND))


def as_sent(marks: Sequence[Mark], data: bytes) -> list[Mark]:
    """The marks of a batch with each bad line's bytes as in `data`, the
    batch as it was sent (with --tag each line carries its identity)."""
    lines = data.split(b"\n")
    return [(row, kind, lines[row]) for row, kind, _ in marks]


@dataclass
class Truth:
    """A truth file read back: the kind of each bad line's hash, and how many of each kind."""

    kind_of: dict[bytes, str] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)
    about: str = ""


class BadTruth(ValueError):
    """The file is not a truth file (the message says where)."""


def read_truth(path: str) -> Truth:
    truth = Truth()
    with open(path, "rb") as file:
        if not file.readline().startswith(VERSION):
            raise BadTruth(f"{path}: not a logstorm truth file (its first line should start with {VERSION.decode()!r})")
        for number, line in enumerate(file, 2):
            if line.startswith(b"#"):
                truth.about = truth.about or line[1:].strip().decode(errors="replace")
                continue
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit() or len(parts[2]) != 16:
                raise BadTruth(f"{path}:{number}: expected 'line kind hash', got {line[:80]!r}")
            kind = parts[1].decode()
            truth.kind_of[parts[2]] = kind
            truth.totals[kind] += 1
    return truth
