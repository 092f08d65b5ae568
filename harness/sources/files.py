"""Lines that already exist: standard input, files (plain or .gz) and s3://
prefixes, read in large chunks cut at line boundaries. Bytes pass through
untouched: invalid UTF-8 is data, not an error."""

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


def check_inputs(paths: tuple[str, ...], endpoint_url: str | None = None) -> None:
    """Fail before anything starts if an input cannot be read (raises OSError
    or the S3 source's error)."""
    for path in paths:
        if path.startswith("s3://"):
            from generators.s3_source import check_s3_source

            check_s3_source(path, endpoint_url)
        elif path != "-":
            open_input(path).close()


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


def read_chunks(paths: tuple[str, ...], endpoint_url: str | None = None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    for path in paths:
        if path.startswith("s3://"):
            from generators.s3_source import s3_chunks

            yield from s3_chunks(path, endpoint_url, chunk_bytes)
            continue
        stream = open_input(path)
        try:
            yield from whole_lines(stream, chunk_bytes)
        finally:
            if path != "-":
                stream.close()
