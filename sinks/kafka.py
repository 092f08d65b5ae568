"""Kafka: one message per line (without its newline), on confluent-kafka.

Delivery accounting costs no Python per delivered message. Every message
carries the default delivery callback, but `delivery.report.only.error` makes
librdkafka call it only for failures, which are counted by error name. Lines
delivered are then exact arithmetic: produced - still in the producer
(`len(producer)`, which counts queued, in-flight and unserved failure reports)
- failed. Acks hand delivered lines out in the order they were sent, with
their `send` call's intended time: exact for one partition, and across
partitions off by at most the messages in flight when the ack is taken.

With --e2e each message's timestamp is its intended send time in
milliseconds, so an end-to-end consumer (sinks/kafka_verify.py) can measure
latency; otherwise librdkafka stamps the time of produce(), which is cheaper.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import sys
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from operator import length_hint
from typing import Callable

from harness.errors import UserError
from harness.options import number
from sinks.base import Ack
from sinks.kafka_log import Captured, log_error, stderr_logger
from sinks.kafka_verify import fingerprint_sum

NAME = "kafka"
HELP = "produce each line as one Kafka message (embedded broker by default)"

EMBEDDED = "embedded"
COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")
ACKS = ("all", "-1", "0", "1")
CHECK_TIMEOUT = 10.0  # metadata wait in check(): the unreachable-broker verdict comes well within 15 s
IN_FLIGHT_SLICE = 0.001  # poll() waits in 1 ms steps while messages are in flight: successes wake nobody
FULL_QUEUE_WAIT = 0.001
CLOSE_GRACE = 1.0  # after a purge, for its failure reports to be served
# Throughput defaults; any -e overrides them. A deep local queue (librdkafka
# holds 100,000 messages by default) rides out broker pauses; a short linger
# measured faster on the embedded broker than a long one (20 ms: about a
# third fewer msg/s than 1-5 ms), since full batches leave by size anyway.
THROUGHPUT_DEFAULTS = {
    "linger.ms": "2",
    "batch.size": "1048576",
    "batch.num.messages": "100000",
    "queue.buffering.max.messages": "500000",
    "queue.buffering.max.kbytes": "262144",
}
IPV4 = re.compile(rb"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


@dataclass(frozen=True)
class Options:
    brokers: tuple[str, ...] = (EMBEDDED,)
    topic: str = "logstorm"
    config: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # -e pairs may hold secrets too
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    partitions: int | None = None
    acks: str = "all"
    compression: str = "lz4"
    key: str = "none"  # none, random, ip, field:N
    delivery_timeout: float = 30.0
    verify: bool = False
    e2e: bool = False
    embedded: bool = False  # brokers holds the address of the broker the supervisor started

    @property
    def bootstrap(self) -> str:
        return ",".join(self.brokers)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", action="append", default=None, metavar="HOST:PORT",
                       help="bootstrap broker; repeatable, comma lists too. 'embedded' (the default) starts a "
                            "Tansu broker on a free 127.0.0.1 port for the run; it keeps every message in memory "
                            "(about 220 MB per million 216-byte lines)")
    parser.add_argument("--topic", default="logstorm", help="topic to produce to (default logstorm)")
    parser.add_argument("-e", "--config", action="append", default=[], metavar="KEY=VALUE",
                       help="librdkafka producer setting, passed untouched and overriding logstorm's; repeatable")
    parser.add_argument("--sasl-username", default=os.environ.get("SASL_USERNAME"),
                       help="SASL user name (default: $SASL_USERNAME)")
    parser.add_argument("--sasl-password", default=os.environ.get("SASL_PASSWORD"),
                       help="SASL password (default: $SASL_PASSWORD); never printed")
    parser.add_argument("--partitions", type=number(int, 1, 100_000), default=None, metavar="N",
                       help="create the topic with N partitions if it does not exist")
    parser.add_argument("--acks", default="all", choices=ACKS, help="acknowledgements the broker waits for (default all)")
    parser.add_argument("--compression", default="lz4", choices=COMPRESSIONS,
                        help="compression codec (default lz4: on the embedded broker it saves about half the "
                             "broker's CPU and three quarters of its memory; none sends raw lines)")
    parser.add_argument("--key", default="none", metavar="none|random|ip|field:N",
                       help="message key: none (default), random, ip (the line's first IPv4 address) "
                            "or field:N (its Nth whitespace-separated field, from 1)")
    parser.add_argument("--delivery-timeout", type=number(float, 0, low_open=True), default=30.0, metavar="SECONDS",
                       help="give up on a message not delivered within this time (default 30)")
    parser.add_argument("--verify", action="store_true",
                       help="after the run, consume the topic and check every delivered line arrived exactly once")
    parser.add_argument("--e2e", action="store_true",
                       help="measure end-to-end latency with a consumer reading while the run produces")


def options(args: argparse.Namespace) -> Options:
    brokers = tuple(b.strip() for value in (args.broker or [EMBEDDED]) for b in value.split(",") if b.strip())
    if not brokers:
        raise UserError("--broker is empty")
    if EMBEDDED in brokers and len(brokers) > 1:
        raise UserError("--broker embedded cannot be combined with other brokers")
    if not args.topic.strip():
        raise UserError("--topic is empty")
    return Options(brokers=brokers, topic=args.topic, config=tuple(split_setting(s) for s in args.config),
                   sasl_username=args.sasl_username or None, sasl_password=args.sasl_password or None,
                   partitions=args.partitions, acks=args.acks, compression=args.compression,
                   key=parse_key(args.key), delivery_timeout=args.delivery_timeout, verify=args.verify, e2e=args.e2e)


def split_setting(text: str) -> tuple[str, str]:
    """`-e key=value`, split at the first '=' so values may hold '='."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"-e {text.split('=')[0]!r}: expected KEY=VALUE")
    return key.strip(), value


def parse_key(text: str) -> str:
    if text in ("none", "random", "ip"):
        return text
    if text.startswith("field:") and text[6:].isdigit() and int(text[6:]) >= 1:
        return text
    raise UserError(f"--key {text!r}: expected none, random, ip or field:N with N >= 1")


def needs_embedded(options: Options) -> bool:
    """True when the supervisor must start an EmbeddedBroker for this run."""
    return options.brokers == (EMBEDDED,)


def with_bootstrap(options: Options, bootstrap: str) -> Options:
    """The options pointed at the embedded broker the supervisor started."""
    return dataclasses.replace(options, brokers=(bootstrap,), embedded=True)


def prepare(options: Options, resources: ExitStack) -> Options:
    """Supervisor hook: start the embedded broker when the run needs one
    (stopped when `resources` closes) and point the options at it."""
    if not needs_embedded(options):
        return options
    from harness.broker import EmbeddedBroker

    broker = resources.enter_context(EmbeddedBroker().start())
    return with_bootstrap(options, broker.bootstrap)


def client_config(options: Options) -> dict[str, str]:
    """What any client (producer, admin, consumer) needs to reach the cluster:
    the bootstrap address, SASL credentials and the user's -e settings."""
    if needs_embedded(options):
        raise ValueError("start the embedded broker and call with_bootstrap() first")
    config = {"bootstrap.servers": options.bootstrap}
    # The embedded broker has no authentication: SASL_* left in the shell must not break the default run.
    if options.sasl_username and not options.embedded:
        config |= {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                   "sasl.username": options.sasl_username, "sasl.password": options.sasl_password or ""}
    return config | dict(options.config)


def producer_config(options: Options) -> dict[str, object]:
    """The producer's librdkafka settings: ours first, the user's -e last."""
    timeout_ms = str(max(1, round(options.delivery_timeout * 1000)))
    ours = THROUGHPUT_DEFAULTS | {
        "acks": options.acks,
        "compression.type": options.compression,
        "message.timeout.ms": timeout_ms,  # the same setting as delivery.timeout.ms
        "delivery.report.only.error": True,  # confluent-kafka wants a bool here
    }
    return ours | client_config(options)


def check(options: Options) -> None:
    """Reach the cluster (one clear line within 15 s if we cannot), validate
    the settings, and create the topic when --partitions asks for it."""
    from confluent_kafka import KafkaException, Producer

    errors = Captured()
    try:
        producer = Producer(producer_config(options) | {"logger": errors.logger, "error_cb": errors.error})
    except (KafkaException, ValueError, TypeError) as error:
        raise UserError(f"bad Kafka setting: {_reason(error)}") from None
    try:
        metadata = producer.list_topics(timeout=CHECK_TIMEOUT)
    except KafkaException as error:
        producer.poll(0)  # serve error_cb: it holds the cause (refused, name not found, auth failed...)
        raise UserError(f"cannot reach Kafka at {options.bootstrap}: {errors.last or _reason(error)}") from None
    if options.partitions:
        ensure_topic(options, metadata, errors)


def ensure_topic(options: Options, metadata, errors: Captured) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    existing = metadata.topics.get(options.topic)
    if existing is not None and existing.error is None:
        if len(existing.partitions) != options.partitions:
            print(f"kafka: topic {options.topic} already exists with {len(existing.partitions)} partition(s); "
                  f"--partitions {options.partitions} applies only to a new topic", file=sys.stderr)
        return
    admin = AdminClient(client_config(options) | {"logger": errors.logger})
    future = admin.create_topics([NewTopic(options.topic, options.partitions)], operation_timeout=CHECK_TIMEOUT,
                                 request_timeout=CHECK_TIMEOUT)[options.topic]
    try:
        future.result()
    except KafkaException as error:
        if error.args[0].name() != "TOPIC_ALREADY_EXISTS":  # another process created it meanwhile
            raise UserError(f"cannot create topic {options.topic}: {_reason(error)}") from None


def _reason(error: Exception) -> str:
    inner = error.args[0] if error.args else error
    return inner.str() if hasattr(inner, "str") else str(inner)


def create(options: Options, producer: int, producers: int) -> KafkaSink:
    return KafkaSink(options, producer)


def key_function(key: str, seed: int) -> Callable[[bytes], bytes | None] | None:
    """Line -> message key, or None for unkeyed messages."""
    if key == "none":
        return None
    if key == "random":
        bits = random.Random(seed).getrandbits
        return lambda line: bits(64).to_bytes(8, "little")
    if key == "ip":
        search = IPV4.search
        return lambda line: (m := search(line)) and m.group()
    n = int(key.removeprefix("field:"))
    return lambda line: fields[n - 1] if len(fields := line.split()) >= n else None


class KafkaSink:
    def __init__(self, options: Options, index: int = 0) -> None:
        self.options = options
        self.index = index
        self.key_of = key_function(options.key, index)
        self.producer = None
        self.produced = 0  # messages accepted by produce()
        self.settled = 0  # produced and no longer in the producer (delivered or failed)
        self.failed = 0  # failure reports served (refusals by produce() are not produced)
        self.acked = 0  # delivered lines already handed out in Acks
        self.sent: deque[list] = deque()  # [intended, lines not yet acked], oldest first
        self.failures: list[Ack] = []
        self.count = 0
        self.sum = 0

    def open(self) -> None:
        from confluent_kafka import KafkaException, Producer

        logger = stderr_logger()
        config = producer_config(self.options) | {"on_delivery": self._failed, "logger": logger,
                                                  "error_cb": partial(log_error, logger)}
        try:
            self.producer = Producer(config)
        except KafkaException as error:
            raise UserError(f"bad Kafka setting: {_reason(error)}") from None

    def send(self, data: bytes, lines: int, intended: float) -> None:
        values = data.split(b"\n")
        if values[-1] == b"":
            values.pop()
        if len(values) != lines:
            raise ValueError(f"send() got {len(values)} lines, told {lines}")
        refused = self._produce(values, int(intended * 1000))
        if self.options.verify:
            self.count += len(values) - len(refused)
            self.sum += fingerprint_sum(values) - fingerprint_sum(value for value, _ in refused)
        for _, reason in refused:
            self.failures.append(Ack(intended, 0, 1, reason))
        self.produced += len(values) - len(refused)
        self.sent.append([intended, len(values) - len(refused)])

    def _produce(self, values: list[bytes], timestamp: int) -> list[tuple[bytes, str]]:
        """produce() every value; returns those it refused, with the reason.
        This is the hot path: map() drives produce() from C, so no Python
        bytecode runs per unkeyed line. The timestamp is passed only for
        --e2e: with one, confluent-kafka takes librdkafka's slower varargs
        path (about twice the cost per message); without, librdkafka stamps
        the produce time."""
        from confluent_kafka import KafkaException

        stamp = {"timestamp": timestamp} if self.options.e2e else {}
        emit = partial(self.producer.produce, self.options.topic, **stamp)
        keys = None if self.key_of is None else list(map(self.key_of, values))
        refused, start = [], 0
        while start < len(values):
            rest = iter(values[start:] if start else values)
            try:
                deque(map(emit, rest, *(() if keys is None else (keys[start:],))), maxlen=0)
                return refused
            except BufferError:
                # The local queue is full: wait for room (deliveries or
                # timeouts free it), then resume at the same line. Never drop.
                self.producer.poll(FULL_QUEUE_WAIT)
                start = len(values) - length_hint(rest) - 1  # map() had taken the failed line
            except KafkaException as error:  # e.g. MSG_SIZE_TOO_LARGE: this line can never be sent
                start = len(values) - length_hint(rest)
                refused.append((values[start - 1], _name(error.args[0])))
        return refused

    def _failed(self, error, message) -> None:
        """librdkafka's delivery report; with delivery.report.only.error on,
        only failures arrive (a -e turning it off just costs speed)."""
        if error is None:
            return
        self.failed += 1
        self.failures.append(Ack(message.timestamp()[1] / 1000, 0, 1, _name(error)))
        if self.options.verify:
            self.count -= 1
            self.sum -= fingerprint_sum((message.value(),))

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        self.producer.poll(0)
        acks = self._acks()
        deadline = time.monotonic() + timeout
        while not acks and (left := deadline - time.monotonic()) > 0:
            # Successful deliveries do not wake poll(), so while anything is
            # in flight look again every millisecond; otherwise sleep it out.
            self.producer.poll(min(left, IN_FLIGHT_SLICE) if self.settled < self.produced else left)
            acks = self._acks()
        return acks

    def _acks(self) -> list[Ack]:
        # len() may count a queued log or error event too: it can only make
        # `settled` late, never early, and max() keeps it from going back.
        self.settled = max(self.settled, self.produced - len(self.producer))
        acks, self.failures = self.failures, []
        ready = self.settled - self.failed - self.acked
        self.acked += max(ready, 0)
        sent = self.sent
        while ready > 0:
            entry = sent[0]
            take = min(ready, entry[1])
            acks.append(Ack(entry[0], take))
            ready -= take
            entry[1] -= take
            if not entry[1]:
                sent.popleft()
        return acks

    def close(self, timeout: float) -> list[Ack]:
        if self.producer is None:
            return []
        if self.producer.flush(timeout):
            # Not all delivered in time: purge, so every message still inside
            # becomes a failure report (PURGE_QUEUE / PURGE_INFLIGHT), and serve those.
            self.producer.purge(in_queue=True, in_flight=True)
            self.producer.flush(CLOSE_GRACE)
        # len() counts log and error events too: serve them, so that it
        # counts only messages and `settled` comes out exact.
        deadline = time.monotonic() + CLOSE_GRACE
        while len(self.producer) and time.monotonic() < deadline:
            self.producer.poll(0.01)
        acks = self._acks()
        unaccounted = self.produced - self.acked - self.failed
        if unaccounted:  # reports librdkafka still owes after a purge: count them, never lose them
            acks.append(Ack(self.sent[0][0] if self.sent else 0.0, 0, unaccounted, "NOT_FLUSHED"))
            self.failed += unaccounted
        self.producer = None
        return acks

    def fingerprint(self) -> tuple[int, int]:
        """(count, 64-bit sum of line hashes) of the delivered lines; --verify only."""
        return self.count, self.sum % 2**64


def _name(error) -> str:
    """MSG_TIMED_OUT rather than librdkafka's _MSG_TIMED_OUT for local errors;
    a purge after a timed-out flush is what the user sees as FLUSH_TIMED_OUT."""
    name = error.name().lstrip("_")
    return "FLUSH_TIMED_OUT" if name.startswith("PURGE_") else name


VERIFY_IDLE_SECONDS = 10.0


def after_run(options: Options, delivered: int, fingerprints: list, started: float) -> tuple[bool, str] | None:
    """--verify: read the topic back from its first offset and check that
    every delivered line is there exactly once (messages older than this
    run's start belong to an earlier run and are left out)."""
    if not options.verify:
        return None
    from sinks.kafka_verify import verify

    prints = [f for f in fingerprints if f]
    result = verify(options, sum(count for count, _ in prints), sum(total for _, total in prints),
                    timeout=VERIFY_IDLE_SECONDS, since=started)
    return result.ok, result.message


def observe(options: Options, stop, record) -> None:
    """--e2e: consume while the run produces; latency = arrival - message timestamp."""
    from sinks.kafka_verify import e2e_consumer

    e2e_consumer(options, stop, record)
