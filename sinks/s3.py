"""S3 sink: lines go into objects of exactly --linecount lines (the last one
of a producer may hold fewer), optionally compressed, named so that key order
is run, then producer, then write order:

    PREFIX/YYYY/MM/DD/<run-id>-p<producer:03d>-<seq:08d>.log[.gz|.zst]

The run id (UTC start time plus a random suffix, no colons) is made once in
`options`, so every producer of a run shares it and no two runs collide.
Compressed bytes are uploaded as they accumulate: an object that outgrows one
part goes up as a multipart upload, so memory stays at one part per producer.
Each finished object is one Ack whose intended time is that of its oldest line.
"""

from __future__ import annotations

import argparse
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from harness.options import number
from harness import aws
from sinks.base import Synchronous, cut, new_run_id

NAME = "s3"
HELP = "write objects of N lines each to an S3 bucket (or an S3-compatible store)"

MiB = 1 << 20
# Suffix and Content-Encoding per --compression.
COMPRESSIONS = {"none": (".log", None), "gzip": (".log.gz", "gzip"), "zstd": (".log.zst", "zstd")}
GZIP_LEVEL = 6  # zlib's default; on apache lines, 9 (gzip.compress's default) took 25% longer for 5% less
ZSTD_LEVEL = 3


@dataclass(frozen=True)
class Options:
    bucket: str
    prefix: str  # "" or ending in "/"
    linecount: int
    compression: str
    part_bytes: int  # multipart part size; objects larger than one part go up in parts
    target: aws.Target
    run_id: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bucket", required=True, help="the bucket to write to (must exist)")
    parser.add_argument("--prefix", default="", help="key prefix, e.g. demo/ (a missing trailing / is added)")
    parser.add_argument("-c", "--linecount", type=number(int, 1), default=10000, metavar="N",
                        help="lines per object (default 10000)")
    parser.add_argument("--compression", choices=tuple(COMPRESSIONS), default="none",
                        help="compress objects: .log, .log.gz or .log.zst with the matching Content-Encoding (default none)")
    parser.add_argument("--part-size", type=number(int, 5, 5120), default=8, metavar="MiB",
                        help="objects larger than this go up as multipart uploads in parts of this size, 5-5120 (default 8)")
    aws.add_arguments(parser)


def options(args: argparse.Namespace) -> Options:
    prefix = args.prefix.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Options(bucket=args.bucket, prefix=prefix, linecount=args.linecount, compression=args.compression,
                   part_bytes=args.part_size * MiB, target=aws.target(args), run_id=new_run_id())


def object_key(options: Options, producer: int, seq: int) -> str:
    day = f"{options.run_id[0:4]}/{options.run_id[4:6]}/{options.run_id[6:8]}"
    suffix = COMPRESSIONS[options.compression][0]
    return f"{options.prefix}{day}/{options.run_id}-p{producer:03d}-{seq:08d}{suffix}"


def check(options: Options) -> None:
    where = f"S3 bucket {options.bucket!r}"
    client = aws.client("s3", options.target, check=True)
    with aws.user_errors(where):
        client.head_bucket(Bucket=options.bucket)


def create(options: Options, producer: int, producers: int) -> S3Sink:
    return S3Sink(options, producer)


class S3Sink(Synchronous):
    def __init__(self, options: Options, producer: int) -> None:
        self.options = options
        self.producer = producer
        self.client: Any = None
        self.seq = 0
        self.current: _Object | None = None
        super().__init__()

    def open(self) -> None:
        self.client = aws.client("s3", self.options.target)

    def send(self, data: bytes, lines: int, intended: float) -> None:
        while lines:
            if self.current is None:
                self.current = _Object(self.client, self.options, object_key(self.options, self.producer, self.seq))
                self.seq += 1
            room = self.options.linecount - self.current.lines
            take = min(lines, room)
            at = len(data) if take == lines else cut(data, take)
            head, data = data[:at], data[at:]
            self.current.write(head, take, intended)
            lines -= take
            if self.current.lines == self.options.linecount:
                self._finish()

    def finish(self) -> None:
        # The last upload is bounded by the client's own timeouts, not by close()'s:
        # an object cut short would be a wrong object, not a smaller one.
        if self.current is not None:
            self._finish()

    def _finish(self) -> None:
        done, self.current = self.current, None
        reason = done.finish()
        if reason:
            self.acks.add(done.intended, 0, done.lines, reason)
        else:
            self.acks.add(done.intended, done.lines)


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Plain:
    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def _compressor(kind: str) -> _Compressor:
    if kind == "gzip":
        return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip header and trailer
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    return _Plain()


class _Object:
    """One object being filled. Compressed bytes wait in `buffer`; once they
    fill a part, the object becomes a multipart upload and each full part goes
    up at once. After a failed upload the object only counts its lines."""

    def __init__(self, client: Any, options: Options, key: str) -> None:
        self.client = client
        self.bucket = options.bucket
        self.key = key
        self.part_bytes = options.part_bytes
        self.encoding = COMPRESSIONS[options.compression][1]
        self.compressor = _compressor(options.compression)
        self.buffer = bytearray()
        self.lines = 0
        self.intended = float("inf")
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.failure = ""

    def write(self, data: bytes, lines: int, intended: float) -> None:
        self.lines += lines
        self.intended = min(self.intended, intended)
        if self.failure:
            return
        self.buffer += self.compressor.compress(data)
        while len(self.buffer) >= self.part_bytes and not self.failure:
            self._attempt(self._upload_part, bytes(self.buffer[:self.part_bytes]))
            del self.buffer[:self.part_bytes]

    def finish(self) -> str:
        """Upload what is left and complete the object; '' or the error code."""
        if not self.failure:
            self.buffer += self.compressor.flush()
            if self.upload_id is None:
                self._attempt(self._put, bytes(self.buffer))
            else:
                if self.buffer:
                    self._attempt(self._upload_part, bytes(self.buffer))
                self._attempt(self._complete)
        if self.failure and self.upload_id is not None:
            self._abort()
        return self.failure

    def _attempt(self, upload: Callable[..., None], *args: Any) -> None:
        if self.failure:
            return
        try:
            upload(*args)
        except aws.errors() as error:
            self.failure = aws.error_code(error)
            self.buffer = bytearray()

    def _extra(self) -> dict[str, str]:
        return {"ContentType": "text/plain", **({"ContentEncoding": self.encoding} if self.encoding else {})}

    def _put(self, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body, **self._extra())

    def _upload_part(self, body: bytes) -> None:
        if self.upload_id is None:
            created = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key, **self._extra())
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        done = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                       PartNumber=number, Body=body)
        self.parts.append({"PartNumber": number, "ETag": done["ETag"]})

    def _complete(self) -> None:
        self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                              MultipartUpload={"Parts": self.parts})

    def _abort(self) -> None:
        # Best effort: a dangling upload only costs storage until a lifecycle rule clears it.
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except aws.errors():
            pass
