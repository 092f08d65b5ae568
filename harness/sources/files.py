"""Standard input and files (plain or .gz), read in large chunks cut at line
boundaries. Bytes pass through untouched: invalid UTF-8 is data, not an
error."""

from __future__ import annotations

import gzip
import sys
from typing import BinaryIO, Iterator

CHUNK_BYTES = 1 << 20


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
