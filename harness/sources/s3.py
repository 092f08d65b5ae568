"""S3 as a source: the objects under s3://bucket/prefix, in key order,
decompressed by suffix (.gz, .zst, .bz2, .xz), as chunks of whole lines.
Without an endpoint_url, boto3 honours AWS_ENDPOINT_URL itself.
This replaces the `aws s3 cp s3://... - | stream` recipe; the logstorm S3
sink names objects so that key order is write order.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from typing import IO, Any, Iterator

from harness.sources.files import whole_lines
from harness.errors import UserError
from harness import aws


def parse_url(url: str) -> tuple[str, str]:
    """s3://bucket/prefix -> (bucket, prefix)."""
    scheme, _, rest = url.partition("://")
    bucket, _, prefix = rest.partition("/")
    if scheme != "s3" or not bucket:
        raise UserError(f"{url!r} is not an S3 location like s3://bucket/prefix")
    return bucket, prefix


def _keys(client: Any, bucket: str, prefix: str) -> Iterator[str]:
    """Object keys under prefix in key order (ListObjectsV2 returns them
    sorted), without the empty "folder" markers some tools create."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not (item["Key"].endswith("/") and item["Size"] == 0):
                yield item["Key"]


def check_s3_source(url: str, endpoint_url: str | None = None) -> None:
    """Raise UserError unless `url` names at least one readable object."""
    bucket, prefix = parse_url(url)
    client = aws.client("s3", aws.Target(endpoint_url), check=True)
    with aws.user_errors(f"S3 bucket {bucket!r}"):
        if next(_keys(client, bucket, prefix), None) is None:
            raise UserError(f"no objects under {url}")


def _decode_errors() -> tuple[type[Exception], ...]:
    import zstandard

    # gzip raises OSError, EOFError or zlib.error on damaged data, bz2 OSError, lzma LZMAError.
    return (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


def _decoded(key: str, body: IO[bytes]) -> IO[bytes]:
    if key.endswith(".gz"):
        return gzip.GzipFile(fileobj=body)
    if key.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
    if key.endswith(".bz2"):
        return bz2.BZ2File(body)
    if key.endswith(".xz"):
        return lzma.LZMAFile(body)
    return body


def s3_chunks(url: str, endpoint_url: str | None = None, chunk_bytes: int = 1 << 20) -> Iterator[memoryview]:
    """The lines of every object under `url`, in key order, in chunks of
    about `chunk_bytes` (more when a single line is longer), each valid
    until the next is asked for (whole_lines)."""
    bucket, prefix = parse_url(url)
    client = aws.client("s3", aws.Target(endpoint_url))
    with aws.user_errors(f"S3 bucket {bucket!r}"):
        for key in _keys(client, bucket, prefix):
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                with body, _decoded(key, body) as stream:
                    yield from whole_lines(stream, chunk_bytes)
            except _decode_errors() as error:
                if isinstance(error, aws.errors()):  # some botocore network errors are OSErrors too
                    raise
                raise UserError(f"cannot decompress s3://{bucket}/{key}: {error}") from None
