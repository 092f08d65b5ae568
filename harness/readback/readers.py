"""Readers of what arrived at the far end: each `read(wait)` returns the
whole lines that came since the last call, as (stream, chunk, lines) with
`stream` what order is kept within (a partition, a file), waiting at most
`wait` seconds (sleeping or blocking, never spinning) when nothing came.

    reader = open_reader(read_back)   # UserError if it cannot be read
    reader.check()                    # before the run: reachable, readable
    reader.read(0.01); reader.close()
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from harness.errors import UserError
from harness.readback.target import ReadBack

Read = list[tuple[object, bytes, int]]
READ_BYTES = 8 << 20
KAFKA_BATCH = 10000
CHECK_TIMEOUT = 10.0
LIST_EVERY = 0.5  # seconds between looks for a topic not there yet, or for new S3 objects


class FileReader:
    """What is appended to one file (a shipper's omfile) after the reader
    opened it; the file may not exist yet."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0
        self.rest = b""

    def check(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise UserError(f"--read-back file://{self.path}: no folder {folder}")

    def read(self, wait: float) -> Read:
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                data = file.read(READ_BYTES)
        except FileNotFoundError:
            data = b""
        self.offset += len(data)
        data = self.rest + data
        end = data.rfind(b"\n") + 1
        self.rest = data[end:]
        if not end:
            time.sleep(wait)
            return []
        chunk = data[:end]
        return [(self.path, chunk, chunk.count(b"\n"))]

    def close(self) -> None:
        pass


class KafkaReader:
    """Every partition of a topic from its beginning, assigned as soon as the
    topic exists (a shipper like omkafka creates it with its first message)."""

    def __init__(self, broker: str, topic: str) -> None:
        from confluent_kafka import Consumer

        quiet = logging.getLogger("logstorm.read-back")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        self.broker, self.topic = broker, topic
        self.consumer = Consumer({"bootstrap.servers": broker, "group.id": "logstorm-read-back",
                                  "enable.auto.commit": "false", "enable.partition.eof": "false",
                                  "fetch.wait.max.ms": "1", "fetch.max.bytes": "52428800", "logger": quiet})
        self.assigned = False
        self.looked = 0.0

    def check(self) -> None:
        from confluent_kafka import KafkaException

        try:
            self.consumer.list_topics(timeout=CHECK_TIMEOUT)
        except KafkaException as error:
            raise UserError(f"--read-back kafka://{self.broker}/{self.topic}: cannot reach Kafka: {error.args[0].str()}") from None

    def _assign(self, wait: float) -> bool:
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition

        if time.monotonic() - self.looked < LIST_EVERY:
            time.sleep(wait)
            return False
        self.looked = time.monotonic()
        found = self.consumer.list_topics(self.topic, timeout=max(wait, 0.5)).topics.get(self.topic)
        if found is None or found.error is not None or not found.partitions:
            return False
        self.consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in sorted(found.partitions)])
        self.assigned = True
        return True

    def read(self, wait: float) -> Read:
        if not self.assigned and not self._assign(wait):
            return []
        by_partition: dict[int, list[bytes]] = {}
        for message in self.consumer.consume(KAFKA_BATCH, timeout=wait):
            if message.error() is None and message.value() is not None:
                by_partition.setdefault(message.partition(), []).append(message.value().removesuffix(b"\n"))
        return [(p, b"\n".join(values) + b"\n", len(values)) for p, values in by_partition.items()]

    def close(self) -> None:
        self.consumer.close()


class S3Reader:
    """Objects that appear under a prefix after the reader started, each read whole once."""

    def __init__(self, bucket: str, prefix: str) -> None:
        from harness import aws

        self.bucket, self.prefix = bucket, prefix
        self.client = aws.client("s3", aws.Target())
        self.known = set(self._keys())
        self.looked = time.monotonic()

    def _keys(self) -> list[str]:
        from harness import aws

        with aws.user_errors(f"--read-back s3://{self.bucket}/{self.prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def check(self) -> None:
        pass  # listing in __init__ has reached the bucket

    def read(self, wait: float) -> Read:
        from harness.sources.s3 import s3_chunks

        if time.monotonic() - self.looked < LIST_EVERY:
            time.sleep(wait)
            return []
        self.looked = time.monotonic()
        out: Read = []
        for key in sorted(set(self._keys()) - self.known):
            self.known.add(key)
            for chunk in map(bytes, s3_chunks(f"s3://{self.bucket}/{key}")):  # kept: each chunk's memory is reused
                out.append((key, chunk, chunk.count(b"\n")))
        return out

    def close(self) -> None:
        pass


def open_reader(read_back: ReadBack) -> Any:
    first, second = read_back.where
    if read_back.scheme == "kafka":
        return KafkaReader(first, second)
    if read_back.scheme == "s3":
        return S3Reader(first, second)
    return FileReader(first)
