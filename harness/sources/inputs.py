"""The inputs of `stream`, whatever they are: standard input ("-"), files
(plain or .gz) and s3:// prefixes, each read as chunks of whole lines. S3 is
imported only when an input names it (it needs boto3)."""

from __future__ import annotations

from typing import Iterator

from harness.sources.files import CHUNK_BYTES, named, open_input, whole_lines


def check_inputs(paths: tuple[str, ...], endpoint_url: str | None = None) -> None:
    """Fail before anything starts if an input cannot be read (an InputError
    naming the file, or the S3 source's error). A file's first chunk is read:
    opening a .gz file reads nothing, so a file that is not gzip would pass."""
    for path in paths:
        if path.startswith("s3://"):
            from harness.sources.s3 import check_s3_source

            check_s3_source(path, endpoint_url)
        elif path != "-":
            with named(path), open_input(path) as stream:
                stream.read(CHUNK_BYTES)


def read_chunks(paths: tuple[str, ...], endpoint_url: str | None = None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[memoryview]:
    """Every input's lines in chunks of whole lines, each valid until the next is asked for (whole_lines)."""
    for path in paths:
        if path.startswith("s3://"):
            from harness.sources.s3 import s3_chunks

            yield from s3_chunks(path, endpoint_url, chunk_bytes)
            continue
        with named(path):
            stream = open_input(path)
            try:
                yield from whole_lines(stream, chunk_bytes)
            finally:
                if path != "-":
                    stream.close()
