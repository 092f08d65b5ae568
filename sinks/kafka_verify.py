"""Reading a Kafka topic back: --verify (every delivered line arrived exactly
once) and --e2e (latency from a message's intended send time, its Kafka
timestamp, to its arrival at a consumer).

Consumers assign every partition themselves instead of joining a group:
joining takes about half of session.timeout.ms on the embedded broker.
Counting is done by consuming, because Tansu's high watermark is the first
offset of the last batch, not the offset after the last record.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

CONSUME_BATCH = 10_000
# The end-to-end reader must not measure itself: consume() returns when a
# whole batch has come or after this wait, and the broker answers a fetch
# with nothing new after fetch.wait.max.ms (librdkafka's default, 500 ms:
# Tansu holds a fetch that long even when messages arrive meanwhile).
E2E_WAIT = 0.002
E2E_FETCH_WAIT_MS = "1"
METADATA_TIMEOUT = 10.0
SETTLE = 1.0  # after the expected count arrived, wait this long for duplicates before saying "exactly once"


def fingerprint_sum(lines: Iterable[bytes]) -> int:
    """Sum of per-line 64-bit hashes (crc32 << 32 | adler32), unreduced: the
    caller adds and subtracts sums and reduces mod 2**64 at the end. Order
    does not matter, a missing line or a duplicate changes it. Both hashes
    run in C through map(), so the cost per line stays well under a microsecond."""
    lines = lines if isinstance(lines, (list, tuple)) else list(lines)
    return (sum(map(zlib.crc32, lines)) << 32) + sum(map(zlib.adler32, lines))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    message: str
    received: int
    expected: int


def verify(options, expected_count: int, expected_sum: int, timeout: float, *,
           since: float | None = None) -> VerifyResult:
    """Consume the topic from its first offset and compare with what the sink
    delivered (Sink.fingerprint()). Reads until the expected count arrived
    and nothing more came for a moment, or until nothing arrived for
    `timeout` seconds. With `since` (a time.time()), messages stamped earlier
    are skipped: an earlier run's lines in the same topic are not ours."""
    consumer = _consumer(options)
    try:
        try:
            _assign_all(consumer, options.topic, time.monotonic() + METADATA_TIMEOUT)
        except TimeoutError:
            return judge(expected_count, expected_sum % 2**64, 0, 0, options.topic)
        count, total = 0, 0
        floor = None if since is None else int(since * 1000)
        idle_since = time.monotonic()
        while True:
            messages = _values(consumer.consume(CONSUME_BATCH, timeout=0.2), floor)
            now = time.monotonic()
            if messages:
                count += len(messages)
                total += fingerprint_sum(messages)
                idle_since = now
            elif now - idle_since > (SETTLE if count >= expected_count else timeout):
                break
    finally:
        consumer.close()
    return judge(expected_count, expected_sum % 2**64, count, total % 2**64, options.topic)


def judge(expected: int, expected_sum: int, received: int, received_sum: int, topic: str) -> VerifyResult:
    if received == expected and received_sum == expected_sum:
        return VerifyResult(True, f"verified: all {expected:,} delivered lines are in {topic} exactly once",
                            received, expected)
    if received < expected:
        problem = f"{expected - received:,} missing"
    elif received > expected:
        problem = f"{received - expected:,} duplicated or extra"
    else:
        problem = "the same count but different lines (some missing, as many duplicated or changed)"
    return VerifyResult(False, f"verify failed: {topic} holds {received:,} of the {expected:,} delivered lines: "
                               f"{problem}", received, expected)


def read_topic(options, idle: float = 2.0) -> list[tuple[int, bytes | None, bytes, int]]:
    """Every message of the topic as (partition, key, value, timestamp ms),
    read until nothing arrives for `idle` seconds (tests and reports)."""
    consumer = _consumer(options)
    out = []
    try:
        _assign_all(consumer, options.topic, time.monotonic() + METADATA_TIMEOUT)
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < idle:
            messages = consumer.consume(CONSUME_BATCH, timeout=0.2)
            out += [(m.partition(), m.key(), m.value(), m.timestamp()[1]) for m in messages if m.error() is None]
            if messages:
                idle_since = time.monotonic()
    finally:
        consumer.close()
    return out


def partition_counts(options, idle: float = 2.0) -> dict[int, int]:
    """Messages per partition, by consuming the whole topic."""
    counts: dict[int, int] = {}
    for partition, *_ in read_topic(options, idle):
        counts[partition] = counts.get(partition, 0) + 1
    return counts


def e2e_consumer(options, stop_event: threading.Event, record: Callable[[np.ndarray], None], *,
                 since: float | None = None) -> None:
    """Read the topic while the run produces and call record() with one
    array of latencies (microseconds, int64: arrival - message timestamp)
    per batch consumed. Runs until stop_event is set (a threading or
    multiprocessing Event). Messages stamped before `since` (default: now)
    belong to an earlier run and are skipped."""
    floor = int((time.time() if since is None else since) * 1000)
    consumer = _consumer(options, **{"fetch.wait.max.ms": E2E_FETCH_WAIT_MS})
    try:
        while not stop_event.is_set():
            try:
                _assign_all(consumer, options.topic, time.monotonic() + 0.5)
                break
            except TimeoutError:  # the first produce creates the topic
                continue
        while not stop_event.is_set():
            messages = consumer.consume(CONSUME_BATCH, timeout=E2E_WAIT)
            if not messages:
                continue
            now_us = int(time.time() * 1e6)
            stamps = np.fromiter((m.timestamp()[1] for m in messages if m.error() is None), dtype=np.int64)
            stamps = stamps[stamps >= floor]
            if len(stamps):
                record(now_us - stamps * 1000)
    finally:
        consumer.close()


def _values(messages: list, floor: int | None) -> list[bytes]:
    if floor is None:
        return [m.value() for m in messages if m.error() is None]
    return [m.value() for m in messages if m.error() is None and m.timestamp()[1] >= floor]


def _consumer(options, **settings: str):
    from confluent_kafka import Consumer

    from sinks.kafka_log import stderr_logger
    from sinks.kafka_options import client_config

    config = client_config(options) | {
        "group.id": "logstorm-verify",  # required by librdkafka even when no group is joined
        "enable.auto.commit": "false",
        "enable.partition.eof": "false",
        "fetch.max.bytes": "52428800",
        "logger": _consumer_logger(stderr_logger()),
        **settings,
    }
    return Consumer(config)


def _consumer_logger(logger: logging.Logger) -> logging.Logger:
    """The user's -e settings are producer settings; the consumer warns about
    each one it ignores (CONFWARN). Those warnings are noise here."""
    quiet = logging.getLogger(logger.name + ".consumer")
    if not quiet.filters:
        quiet.addFilter(lambda record: not (isinstance(record.args, tuple) and record.args[:1] == ("CONFWARN",)))
    return quiet


def _assign_all(consumer, topic: str, deadline: float) -> None:
    """Assign every partition of `topic`, from its beginning, once the cluster
    names them; TimeoutError at `deadline`. A metadata request that times out
    or loses its connection is asked again, as a topic not there yet is: the
    first connection to a broker on a loaded machine can take longer than a
    short deadline (the e2e observer's half second raised _TIMED_OUT out of
    its run in CI)."""
    from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

    while True:
        try:
            metadata = consumer.list_topics(topic, timeout=max(0.1, deadline - time.monotonic()))
        except KafkaException as error:
            if error.args[0].code() not in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT):
                raise
            metadata = None
        found = None if metadata is None else metadata.topics.get(topic)
        if found is not None and found.error is None and found.partitions:
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(found.partitions)])
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {topic} not found")
        time.sleep(0.1)
