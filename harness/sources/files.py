"""Standard input and files (plain or .gz), read in large chunks cut at line
boundaries. Bytes pass through untouched: invalid UTF-8 is data, not an
error."""

from __future__ import annotations

import gzip
import sys
import zlib
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from harness.errors import UserError

CHUNK_BYTES = 1 << 20
# What broken compressed data raises, on opening or part-way through.
DAMAGED = (gzip.BadGzipFile, EOFError, zlib.error)


class InputError(UserError):
    """An input that cannot be read, or whose compressed data is broken."""


@contextmanager
def named(path: str) -> Iterator[None]:
    """Errors while reading `path` as one InputError that names it."""
    try:
        yield
    except DAMAGED as error:
        raise InputError(f"{path}: broken gzip data: {error}") from None
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None


def open_input(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def whole_lines(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Chunks of whole newline-terminated lines; a last line without a
    newline gets one."""
    rest = b""
    while True:
        block = stream.read(chunk_bytes)
        if not block:
            break
        block = rest + block if rest else block
        end = block.rfind(b"\n") + 1
        if end == 0:
            rest = block
            continue
        rest = block[end:]
        yield block[:end]
    if rest:
        yield rest + b"\n"
