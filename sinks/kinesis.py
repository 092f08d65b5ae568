"""Kinesis sink: each line (without its newline) is one record, sent with
PutRecords in calls within the service limits (500 records, 5 MiB per call,
1 MiB per record including its partition key).

Partition keys are random by default so records spread over all shards; the
tool this replaces sent every record with one key, which puts the whole load
on one shard. `--key ip` or `--key field:N` keys by a field of the line
instead, like a pipeline that keeps a client's lines in order.

Records the service rejects (FailedRecordCount > 0: throttling, internal
failures) are retried with exponential backoff and jitter, up to
--max-retries, then counted failed with their error code. A line too large to
be a record is counted failed as "RecordTooLarge" and never sent. Every line
given to `send` ends up delivered or failed, nothing else.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from harness.errors import UserError
from harness.options import number
from harness import aws
from sinks.base import Synchronous

NAME = "kinesis"
HELP = "put lines as records on a Kinesis data stream (PutRecords)"

MAX_RECORDS = 500
MAX_CALL_BYTES = 5 << 20
MAX_RECORD_BYTES = 1 << 20  # data plus partition key
MAX_KEY_CHARS = 256
BACKOFF_FIRST = 0.1  # seconds before the first retry; doubles each time
BACKOFF_MAX = 5.0
MISSING_FIELD_KEY = "-"  # a line without the key field (a corrupted one, say) still needs a key


@dataclass(frozen=True)
class Options:
    stream: str
    key_field: int  # 0: a random key per record; N: the Nth whitespace-separated field
    max_retries: int
    target: aws.Target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stream", required=True, help="the data stream to put records on (must exist)")
    parser.add_argument("--key", type=key_field, default=0, metavar="random|ip|field:N",
                        help="partition key: random per record (default; spreads over shards), "
                             "ip (the first field), or field:N (the Nth whitespace-separated field)")
    parser.add_argument("--max-retries", type=number(int, 0, 100), default=5, metavar="N",
                        help="retries of rejected records before they count as failed (default 5)")
    aws.add_arguments(parser)


def key_field(text: str) -> int:
    """argparse type for --key: 0 for random, else a 1-based field number."""
    if text == "random":
        return 0
    if text == "ip":
        return 1
    name, _, digits = text.partition(":")
    if name == "field" and digits.isdigit() and int(digits) >= 1:
        return int(digits)
    raise argparse.ArgumentTypeError(f"{text!r} is not random, ip or field:N (N from 1)")


def options(args: argparse.Namespace) -> Options:
    return Options(stream=args.stream, key_field=args.key, max_retries=args.max_retries, target=aws.target(args))


def check(options: Options) -> None:
    where = f"Kinesis stream {options.stream!r}"
    client = aws.client("kinesis", options.target, check=True)
    with aws.user_errors(where):
        status = client.describe_stream_summary(StreamName=options.stream)["StreamDescriptionSummary"]["StreamStatus"]
    if status not in ("ACTIVE", "UPDATING"):
        raise UserError(f"{where} is {status}, not ACTIVE: it cannot take records now")


def create(options: Options, producer: int, producers: int) -> KinesisSink:
    return KinesisSink(options)


def partition_key(field: int, rng: random.Random) -> Callable[[bytes], str]:
    if field == 0:
        return lambda line: "%016x" % rng.getrandbits(64)

    def by_field(line: bytes) -> str:
        fields = line.split(None, field)
        return fields[field - 1].decode("utf-8", "replace")[:MAX_KEY_CHARS] if len(fields) >= field else MISSING_FIELD_KEY

    return by_field


def record_size(record: dict[str, Any]) -> int:
    return len(record["Data"]) + len(record["PartitionKey"].encode())


def calls(records: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """`records` cut into PutRecords calls within the count and size limits."""
    call: list[dict[str, Any]] = []
    size = 0
    for record in records:
        bytes_ = record_size(record)
        if call and (len(call) == MAX_RECORDS or size + bytes_ > MAX_CALL_BYTES):
            yield call
            call, size = [], 0
        call.append(record)
        size += bytes_
    if call:
        yield call


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry `attempt` (1, 2, ...): doubling, capped,
    half of it random so that producers throttled together do not retry together."""
    ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class KinesisSink(Synchronous):
    """Synchronous: `send` returns when every line of the chunk is settled.
    `client` may be set before `open` (tests wrap the real one)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.client: Any = None
        self.rng = random.Random()  # seeded from the OS: keys must differ between producers
        self.key = partition_key(options.key_field, self.rng)
        self.longest_send = aws.LONGEST_SEND
        super().__init__()

    def open(self) -> None:
        if self.client is None:
            # botocore retries nothing: retries are counted here, against --max-retries.
            self.client = aws.client("kinesis", self.options.target, attempts=1)

    def send(self, data: bytes, lines: int, intended: float) -> None:
        records, too_large = [], 0
        for line in data.split(b"\n")[:-1]:
            record = {"Data": line, "PartitionKey": self.key(line)}
            if record_size(record) > MAX_RECORD_BYTES:
                too_large += 1
            else:
                records.append(record)
        failed: Counter[str] = Counter()
        if too_large:
            failed["RecordTooLarge"] = too_large
        for call in calls(records):
            failed.update(self._put(call))
        if lines > sum(failed.values()):
            self.acks.add(intended, lines - sum(failed.values()))
        for reason, count in failed.items():
            self.acks.add(intended, 0, count, reason)

    def _put(self, records: list[dict[str, Any]]) -> Counter[str]:
        """Put `records`, retrying the rejected ones; the failures by error code."""
        pending = [(record, "") for record in records]
        for attempt in range(self.options.max_retries + 1):
            if attempt:
                time.sleep(backoff(attempt, self.rng))
            pending, retry = self._try([record for record, _ in pending])
            if not pending or not retry:
                break
        return Counter(code for _, code in pending)

    def _try(self, records: list[dict[str, Any]]) -> tuple[list[tuple[dict[str, Any], str]], bool]:
        """One PutRecords call: the rejected records with their codes, and
        whether trying them again may help."""
        try:
            response = self.client.put_records(StreamName=self.options.stream, Records=records)
        except aws.errors() as error:
            return [(record, aws.error_code(error)) for record in records], aws.transient(error)
        rejected = [(record, result["ErrorCode"]) for record, result in zip(records, response["Records"])
                    if result.get("ErrorCode")]
        return rejected, True
