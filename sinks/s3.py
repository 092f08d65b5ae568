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
import math
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from harness.options import number
from harness import aws
from harness.errors import UserError
from sinks.base import Ack, Synchronous, cut, new_run_id

NAME = "s3"
HELP = "write objects of N lines each to an S3 bucket (or an S3-compatible store)"

MiB = 1 << 20
# Suffix and Content-Encoding per --compression.
COMPRESSIONS = {"none": (".log", None), "gzip": (".log.gz", "gzip"), "zstd": (".log.zst", "zstd")}
GZIP_LEVEL = 6  # zlib's default; on apache lines, 9 (gzip.compress's default) took 25% longer for 5% less
ZSTD_LEVEL = 3
# cleanup() runs at the end of every run, a broken one too: it must not hold it up.
CLEANUP_SECONDS = 10.0
CLOSE_TIMED_OUT = "close() ran out of time before the object was complete"


@dataclass(frozen=True)
class Options:
    bucket: str
    prefix: str  # "" or ending in "/"
    linecount: int
    compression: str
    part_bytes: int  # multipart part size; objects larger than one part go up in parts
    target: aws.Target
    run_id: str
    preamble: bytes = b""  # the format's header lines, at the top of each object (CloudFront's)


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


def run_prefix(options: Options) -> str:
    """What every key of this run starts with, and no other run's."""
    day = f"{options.run_id[0:4]}/{options.run_id[4:6]}/{options.run_id[6:8]}"
    return f"{options.prefix}{day}/{options.run_id}-p"


def object_key(options: Options, producer: int, seq: int) -> str:
    suffix = COMPRESSIONS[options.compression][0]
    return f"{run_prefix(options)}{producer:03d}-{seq:08d}{suffix}"


def check(options: Options) -> None:
    where = f"S3 bucket {options.bucket!r}"
    client = aws.client("s3", options.target, check=True)
    with aws.user_errors(where):
        client.head_bucket(Bucket=options.bucket)


def create(options: Options, producer: int, producers: int) -> S3Sink:
    return S3Sink(options, producer)


def cleanup(options: Options) -> str | None:
    """Abort the multipart uploads this run left unfinished (a killed
    producer's), and only this run's: those under its own key prefix.
    Bounded by short timeouts and CLEANUP_SECONDS; never raises, since it
    also runs at the end of a run that failed."""
    deadline = time.monotonic() + CLEANUP_SECONDS
    unknown = "could not look for unfinished multipart uploads"
    try:
        client = aws.client("s3", options.target, check=True)
        pages = client.get_paginator("list_multipart_uploads").paginate(Bucket=options.bucket,
                                                                         Prefix=run_prefix(options))
        uploads = [upload for page in pages for upload in page.get("Uploads", [])]
    except UserError as error:
        return f"{unknown}: {error}"
    except aws.errors() as error:
        return f"{unknown}: {aws.explain(error, f'S3 bucket {options.bucket!r}')}"
    left = _abort_all(client, options.bucket, uploads, deadline)
    return _aborted(len(uploads), left) if uploads else None


def _abort_all(client: Any, bucket: str, uploads: list[dict[str, Any]], deadline: float) -> Counter[str]:
    """Abort each upload; why any is left (its error code), counted."""
    left: Counter[str] = Counter()
    for upload in uploads:
        if time.monotonic() > deadline:
            left[f"cleanup's {CLEANUP_SECONDS:.0f} s were up"] += 1
            continue
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        except aws.errors() as error:
            left[aws.error_code(error)] += 1
    return left


def _aborted(found: int, left: Counter[str]) -> str:
    uploads = f"{found} unfinished multipart upload{'' if found == 1 else 's'}"
    if not left:
        return f"aborted {uploads}"
    reasons = ", ".join(f"{count} {reason}" for reason, count in left.most_common())
    return f"aborted {found - left.total()} of {uploads}; left: {reasons}"


class S3Sink(Synchronous):
    def __init__(self, options: Options, producer: int) -> None:
        self.options = options
        self.producer = producer
        self.client: Any = None
        self.aborter: Any = None
        self.seq = 0
        self.current: _Object | None = None
        self.longest_send = aws.LONGEST_SEND
        super().__init__()

    def open(self) -> None:
        self.client = aws.client("s3", self.options.target)
        # Aborts fail fast (one short attempt): an upload left behind is
        # cleanup()'s at the end of the run, and close() must stay bounded.
        self.aborter = aws.client("s3", self.options.target, check=True)

    def send(self, data: bytes, lines: int, intended: float) -> None:
        while lines:
            if self.current is None:
                key = object_key(self.options, self.producer, self.seq)
                self.current = _Object(self.client, self.aborter, self.options, key)
                self.seq += 1
            room = self.options.linecount - self.current.lines
            take = min(lines, room)
            at = len(data) if take == lines else cut(data, take)
            head, data = data[:at], data[at:]
            self.current.write(head, take, intended)
            lines -= take
            if self.current.lines == self.options.linecount:
                self._finish()

    def close(self, timeout: float) -> list[Ack]:
        # The last object is never cut short (that would be a wrong object, not
        # a smaller one): not complete within `timeout`, it is aborted instead.
        if self.current is not None:
            self._finish(time.monotonic() + timeout)
        return self.acks.take()

    def _finish(self, deadline: float = math.inf) -> None:
        done, self.current = self.current, None
        reason = done.finish(deadline)
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
    up at once. After a failed upload (a multipart one is aborted at once)
    the object only counts its lines."""

    def __init__(self, client: Any, aborter: Any, options: Options, key: str) -> None:
        self.client = client
        self.aborter = aborter
        self.bucket = options.bucket
        self.key = key
        self.part_bytes = options.part_bytes
        self.encoding = COMPRESSIONS[options.compression][1]
        self.compressor = _compressor(options.compression)
        self.buffer = bytearray(self.compressor.compress(options.preamble) if options.preamble else b"")
        self.lines = 0
        self.intended = float("inf")
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.failure = ""
        self.deadline = math.inf  # no step starts after it

    def write(self, data: bytes, lines: int, intended: float) -> None:
        self.lines += lines
        self.intended = min(self.intended, intended)
        if self.failure:
            return
        self.buffer += self.compressor.compress(data)
        while len(self.buffer) >= self.part_bytes and not self.failure:
            self._attempt(self._upload_part, bytes(self.buffer[:self.part_bytes]))
            del self.buffer[:self.part_bytes]

    def finish(self, deadline: float = math.inf) -> str:
        """Upload what is left and complete the object, starting no step after
        `deadline`; '' or why not (the error code, or that time ran out)."""
        self.deadline = deadline
        if not self.failure:
            self.buffer += self.compressor.flush()
        if self.upload_id is None:
            self._attempt(self._put, bytes(self.buffer))
        else:
            if self.buffer:
                self._attempt(self._upload_part, bytes(self.buffer))
            self._attempt(self._complete)
        return self.failure

    def _attempt(self, upload: Callable[..., None], *args: Any) -> None:
        if self.failure:
            return
        if time.monotonic() >= self.deadline:
            self._fail(CLOSE_TIMED_OUT)
            return
        try:
            upload(*args)
        except aws.errors() as error:
            self._fail(aws.error_code(error))

    def _fail(self, reason: str) -> None:
        self.failure = reason
        self.buffer = bytearray()
        if self.upload_id is not None:
            self._abort()

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
        # Best effort: what fails here, cleanup() at the end of the run aborts.
        try:
            self.aborter.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except aws.errors():
            pass
