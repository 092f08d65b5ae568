"""Kafka: one message per line (without its newline), on librdkafka.

A batch's lines go to librdkafka in one call (sinks/kafka_batch.py) unless
each message needs a timestamp (--e2e) or key of its own: those go through
confluent-kafka's produce(), one call a line. Both producers answer the
same len/poll/flush/purge, so the accounting below is one for both.

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

import random
import re
import sys
import time
from collections import deque
from contextlib import ExitStack
from functools import partial
from operator import length_hint
from typing import Callable

from harness.errors import UserError
from sinks import kafka_options
from sinks.base import Ack, split_lines
from sinks.kafka_batch import BatchProducer, Client
from sinks.kafka_log import Captured, log_error, stderr_logger
from sinks.kafka_options import Options, client_config, needs_embedded, producer_config, speaks_sasl, with_bootstrap
from sinks.kafka_verify import fingerprint_sum

NAME = "kafka"
HELP = "produce each line as one Kafka message (embedded broker by default)"
# The sink interface's flags and their checks live in sinks/kafka_options.py.
add_arguments = kafka_options.add_arguments
options = kafka_options.options

CHECK_TIMEOUT = 10.0  # metadata wait in check(): the unreachable-broker verdict comes well within 15 s
IN_FLIGHT_SLICE = 0.001  # poll() waits in 1 ms steps while messages are in flight: successes wake nobody
FULL_QUEUE_WAIT = 0.001
CLOSE_GRACE = 1.0  # after a purge, for its failure reports to be served
# At the end, the last acknowledgements are first awaited this long by
# polling in IN_FLIGHT_SLICE steps (see _drain).
QUICK_DRAIN = 0.05
IPV4 = re.compile(rb"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


def prepare(options: Options, resources: ExitStack) -> Options:
    """Supervisor hook: start the embedded broker when the run needs one
    (stopped when `resources` closes) and point the options at it."""
    if not needs_embedded(options):
        return options
    kind = options.brokers[0]
    if speaks_sasl(options):
        # Tansu fails the SASL handshake ("Unsupported SASL mechanism"), and only after the check's 10 s wait;
        # the Apache Kafka a run starts listens in PLAINTEXT only.
        raise UserError(f"the {kind} broker has no SASL authentication (-e security.protocol={options.protocol}): "
                        "give --broker HOST:PORT of a cluster that has it")
    if kind == kafka_options.APACHE:
        from harness.servers.apache_kafka import ApacheKafka as Broker
    else:
        from harness.servers.kafka import EmbeddedBroker as Broker

    broker = resources.enter_context(Broker().start())
    return with_bootstrap(options, broker.bootstrap)


def check(options: Options) -> None:
    """Reach the cluster (one clear line within 15 s if we cannot), validate
    the settings, and create the topic when --partitions asks for it."""
    errors = Captured()
    client = Client(producer_config(options), errors.logger)
    try:
        failed = client.reach(CHECK_TIMEOUT)  # error_cb holds the cause: refused, name not found, auth failed...
    finally:
        client.close()
    if failed:
        raise UserError(f"cannot reach Kafka at {options.bootstrap}: {errors.last or failed}")
    if options.partitions:
        ensure_topic(options, errors)


def ensure_topic(options: Options, errors: Captured) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_config(options) | {"logger": errors.logger})
    try:
        existing = admin.list_topics(timeout=CHECK_TIMEOUT).topics.get(options.topic)  # all topics: asking for one would create it
    except KafkaException as error:
        raise UserError(f"cannot reach Kafka at {options.bootstrap}: {errors.last or _reason(error)}") from None
    if existing is not None and existing.error is None:
        if len(existing.partitions) != options.partitions:
            print(f"kafka: topic {options.topic} already exists with {len(existing.partitions)} partition(s); "
                  f"--partitions {options.partitions} applies only to a new topic", file=sys.stderr)
        return
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
        # A send waits for room while the local queue is full, which
        # deliveries or their timeouts free: it may block this long.
        self.longest_send = options.delivery_timeout
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
        logger = stderr_logger()
        if self.batched:
            self.producer = BatchProducer(producer_config(self.options), self.options.topic, self._failed, logger)
            return
        from confluent_kafka import KafkaException, Producer

        config = producer_config(self.options) | {"on_delivery": self._failed, "logger": logger,
                                                  "error_cb": partial(log_error, logger)}
        try:
            self.producer = Producer(config)
        except KafkaException as error:
            raise UserError(f"bad Kafka setting: {_reason(error)}") from None

    @property
    def batched(self) -> bool:
        """Whether a batch's lines go to librdkafka in one call (sinks/kafka_batch.py):
        not when each message needs its own timestamp (--e2e) or key."""
        return not self.options.e2e and self.key_of is None

    @property
    def borrows(self) -> bool:
        """Whether send() takes a view of the ring's bytes (see harness/run/producer.py):
        the batch path reads them once, and librdkafka copies each line (MSG_F_COPY)."""
        return self.batched and not self.options.verify

    def send(self, data: bytes, lines: int, intended: float) -> None:
        values = None if self.batched else split_lines(data, lines)  # the batch path needs no list of lines
        if values is None:
            refused = self.producer.produce_lines(data, lines, partial(self.producer.poll, FULL_QUEUE_WAIT))
        else:
            refused = self._produce(values, int(intended * 1000))
        if self.options.verify:
            values = split_lines(data, lines) if values is None else values
            self.count += lines - len(refused)
            self.sum += fingerprint_sum(values) - fingerprint_sum(value for value, _ in refused)
        for _, reason in refused:
            self.failures.append(Ack(intended, 0, 1, reason))
        self.produced += lines - len(refused)
        self.sent.append([intended, lines - len(refused)])

    def _produce(self, values: list[bytes], timestamp: int) -> list[tuple[bytes, str]]:
        """produce() every value; returns those it refused, with the reason.
        The path of --e2e and keyed runs: map() drives produce() from C, so no Python
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
        if self._drain(timeout):
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
        if self.batched:
            self.producer.close()
        self.producer = None
        return acks

    def _drain(self, timeout: float) -> int:
        """Wait up to `timeout` for librdkafka to hand over everything; what
        it still holds. Its flush() waits in 10 ms slices that, as with
        poll(), no success ends: every run's last acknowledgement waited
        10.2 ms for one that came in 1.2-3.5 ms. So first poll in 1 ms
        steps; a longer wait (a backlog, a long linger.ms) goes to flush(),
        which also sends at once what linger.ms would still hold."""
        deadline = time.monotonic() + timeout
        quick = min(deadline, time.monotonic() + QUICK_DRAIN)
        while len(self.producer) and (left := quick - time.monotonic()) > 0:
            self.producer.poll(min(left, IN_FLIGHT_SLICE))
        if not len(self.producer):
            return 0
        return self.producer.flush(max(0.0, deadline - time.monotonic()))

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


def observe(options: Options, stop, record, since: float) -> None:
    """--e2e: consume while the run produces; latency = arrival - message
    timestamp, for the messages stamped from the run's start (`since`) on."""
    from sinks.kafka_verify import e2e_consumer

    e2e_consumer(options, stop, record, since=since)
