"""A Kafka producer that hands a whole ring batch to librdkafka in one call.

confluent-kafka's produce() costs one Python call per message, about 0.7 µs
a line above kcat on this machine; `rd_kafka_produce_batch` takes an array
of messages instead. The array is built with numpy from the batch's newline
offsets, so no Python runs per line. It calls the librdkafka that the
confluent-kafka wheel bundles (the same file confluent-kafka itself loaded)
through ctypes: no C extension to build.

It speaks the part of confluent_kafka.Producer that sinks/kafka.py uses
(len, poll, flush, purge) so that the sink's accounting is one piece of
code for both producers. produce_batch stamps every message with the time
of the call, so --e2e runs (whose messages carry their intended time) keep
confluent-kafka's produce(); so do keyed runs, whose keys are worked out
line by line in Python anyway.

Each call names its partition, the next in turn for each ring batch
(librdkafka's own choice for keyless messages, the sticky partitioner, also
keeps one partition for a few milliseconds, about a batch). With the
partition given, librdkafka queues the whole array under one lock instead
of running its partitioner and taking the partition's lock per message:
that cut the producer thread's CPU by a third. The partition count comes
from a metadata request when the producer opens (which also has the
broker create a missing topic, as the first produce would); a topic whose
partitions are still unknown after METADATA_WAIT is left to the
partitioner for the producer's life, so messages of the two paths never
share a partition's queue out of order.

Delivery reports arrive only for failures (`delivery.report.only.error`),
through a ctypes callback run inside poll(): a failure costs a Python call,
a success costs nothing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_int32, c_int64, c_size_t, c_void_p
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np

from harness.errors import UserError

PRODUCER = 0  # RD_KAFKA_PRODUCER
PARTITION_UA = -1  # let the partitioner choose, as produce() without a partition does
MSG_F_COPY = 0x2  # librdkafka copies each payload: the ring's bytes may be reused at once
PURGE_QUEUE, PURGE_INFLIGHT = 0x1, 0x2
QUEUE_FULL = -184  # RD_KAFKA_RESP_ERR__QUEUE_FULL
ERRSTR = 512
METADATA_WAIT = 2.0  # seconds the producer waits at open for the partition count of a topic being created
METADATA_RETRY = 0.1  # between metadata requests while a new topic is being created
DEFAULT_MAX_MESSAGES = 100000  # librdkafka's queue.buffering.max.messages
# librdkafka logs at syslog levels; below 3 (error) is worse still.
SYSLOG_LEVELS = {3: logging.ERROR, 4: logging.WARNING, 5: logging.INFO, 6: logging.INFO, 7: logging.DEBUG}


class Message(Structure):
    """rd_kafka_message_t, as rdkafka.h lays it out."""

    _fields_ = [("err", c_int), ("rkt", c_void_p), ("partition", c_int32), ("payload", c_void_p),
                ("len", c_size_t), ("key", c_void_p), ("key_len", c_size_t), ("offset", c_int64),
                ("private", c_void_p)]


class MetadataPartition(Structure):
    _fields_ = [("id", c_int32), ("err", c_int), ("leader", c_int32), ("replica_cnt", c_int),
                ("replicas", c_void_p), ("isr_cnt", c_int), ("isrs", c_void_p)]


class MetadataTopic(Structure):
    """rd_kafka_metadata_topic_t."""

    _fields_ = [("topic", c_char_p), ("partition_cnt", c_int), ("partitions", POINTER(MetadataPartition)),
                ("err", c_int)]


class Metadata(Structure):
    """rd_kafka_metadata_t."""

    _fields_ = [("broker_cnt", c_int), ("brokers", c_void_p), ("topic_cnt", c_int),
                ("topics", POINTER(MetadataTopic)), ("orig_broker_id", c_int32), ("orig_broker_name", c_char_p)]


# The same layout as a numpy record, so a batch's array is filled column by column.
MESSAGE = np.dtype({"names": [name for name, _ in Message._fields_],
                    "formats": ["<i4", "<u8", "<i4", "<u8", "<u8", "<u8", "<u8", "<i8", "<u8"],
                    "offsets": [getattr(Message, name).offset for name, _ in Message._fields_],
                    "itemsize": ctypes.sizeof(Message)})

DeliveryCallback = CFUNCTYPE(None, c_void_p, POINTER(Message), c_void_p)
ErrorCallback = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_void_p)
LogCallback = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_char_p)


def bundled_librdkafka() -> Path:
    """The librdkafka file the confluent-kafka wheel brings (and itself loads),
    found without importing confluent-kafka."""
    from importlib.util import find_spec

    spec = find_spec("confluent_kafka")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("confluent-kafka is not installed")
    libs = Path(spec.submodule_search_locations[0]).parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka-*.so.1"))
    if not found:
        raise UserError(f"no librdkafka bundled with confluent-kafka in {libs}")
    return found[0]


@cache
def librdkafka() -> ctypes.CDLL:
    """The wheel's librdkafka, with the prototypes this module calls."""
    lib = ctypes.CDLL(str(bundled_librdkafka()))
    signatures = {
        "rd_kafka_conf_new": (c_void_p, []),
        "rd_kafka_conf_set": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t]),
        "rd_kafka_conf_set_dr_msg_cb": (None, [c_void_p, DeliveryCallback]),
        "rd_kafka_conf_set_error_cb": (None, [c_void_p, ErrorCallback]),
        "rd_kafka_conf_set_log_cb": (None, [c_void_p, LogCallback]),
        "rd_kafka_conf_destroy": (None, [c_void_p]),
        "rd_kafka_new": (c_void_p, [c_int, c_void_p, c_char_p, c_size_t]),
        "rd_kafka_topic_new": (c_void_p, [c_void_p, c_char_p, c_void_p]),
        "rd_kafka_topic_destroy": (None, [c_void_p]),
        "rd_kafka_destroy": (None, [c_void_p]),
        "rd_kafka_produce_batch": (c_int, [c_void_p, c_int32, c_int, c_void_p, c_int]),
        "rd_kafka_poll": (c_int, [c_void_p, c_int]),
        "rd_kafka_outq_len": (c_int, [c_void_p]),
        "rd_kafka_flush": (c_int, [c_void_p, c_int]),
        "rd_kafka_purge": (c_int, [c_void_p, c_int]),
        "rd_kafka_err2name": (c_char_p, [c_int]),
        "rd_kafka_version_str": (c_char_p, []),
        "rd_kafka_message_timestamp": (c_int64, [POINTER(Message), c_void_p]),
        "rd_kafka_metadata": (c_int, [c_void_p, c_int, c_void_p, POINTER(POINTER(Metadata)), c_int]),
        "rd_kafka_metadata_destroy": (None, [POINTER(Metadata)]),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = result, arguments
    return lib


def error_name(code: int) -> str:
    return librdkafka().rd_kafka_err2name(code).decode()


class Failure:
    """What a failed delivery report hands on: the parts of confluent-kafka's
    KafkaError and Message that sinks/kafka.py reads."""

    def __init__(self, code: int, value: bytes, timestamp_ms: int) -> None:
        self.code, self._value, self._timestamp = code, value, timestamp_ms

    def name(self) -> str:
        return error_name(self.code)

    def value(self) -> bytes:
        return self._value

    def timestamp(self) -> tuple[int, int]:
        return 1, self._timestamp


class Client:
    """One librdkafka producer handle. `config` is producer_config()'s dict;
    `on_delivery(error, message)` is called for failures only, and `logger`
    gets librdkafka's log lines and error events the way confluent-kafka
    logs them ("%s [%s] %s": facility, client, text). sinks/kafka.py's
    check() uses one to reach the cluster, so that no command that can
    batch imports confluent-kafka (25 ms of every start)."""

    def __init__(self, config: dict[str, object], logger: logging.Logger, on_delivery: Callable | None = None) -> None:
        lib = self.lib = librdkafka()
        self.on_delivery = on_delivery
        self.logger = logger
        # Keep the callbacks referenced for the handle's life: librdkafka holds bare pointers.
        self._callbacks = (DeliveryCallback(self._delivered), ErrorCallback(self._error), LogCallback(self._log))
        conf = lib.rd_kafka_conf_new()
        errstr = ctypes.create_string_buffer(ERRSTR)
        for name, value in config.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if lib.rd_kafka_conf_set(conf, name.encode(), text.encode(), errstr, ERRSTR):
                lib.rd_kafka_conf_destroy(conf)
                raise UserError(f"bad Kafka setting: {errstr.value.decode()}")
        for setter, callback in zip(("dr_msg_cb", "error_cb", "log_cb"), self._callbacks):
            getattr(lib, f"rd_kafka_conf_set_{setter}")(conf, callback)
        self.rk = lib.rd_kafka_new(PRODUCER, conf, errstr, ERRSTR)  # owns conf only when it succeeds
        if not self.rk:
            lib.rd_kafka_conf_destroy(conf)
            raise UserError(f"bad Kafka setting: {errstr.value.decode()}")
        self.rkt = None

    def reach(self, timeout: float) -> str | None:
        """Ask the cluster for its metadata, as confluent-kafka's list_topics()
        does; None once it answered, else the error's name (the cause went to
        the logger, served here)."""
        code, _ = self._metadata(None, timeout)
        if code == 0:
            return None
        self.poll(0)
        return error_name(code)

    def _metadata(self, topic: int | None, timeout: float) -> tuple[int, int]:
        """One metadata request, for every topic (`topic` None) or for one
        topic handle: (error code, that topic's partition count, 0 while
        unknown or when every topic was asked for)."""
        metadata = POINTER(Metadata)()
        code = self.lib.rd_kafka_metadata(self.rk, topic is None, topic, ctypes.byref(metadata), max(1, int(timeout * 1000)))
        if code:
            return code, 0
        answer = metadata.contents
        first = answer.topics[0] if topic is not None and answer.topic_cnt == 1 else None
        count = first.partition_cnt if first is not None and first.err == 0 else 0
        self.lib.rd_kafka_metadata_destroy(metadata)
        return code, count

    def _delivered(self, rk, message, opaque) -> None:
        m = message.contents
        if not m.err or self.on_delivery is None:  # a success: reported only when a -e turned delivery.report.only.error off
            return
        value = ctypes.string_at(m.payload, m.len) if m.payload else b""
        failure = Failure(m.err, value, self.lib.rd_kafka_message_timestamp(message, None))
        self.on_delivery(failure, failure)

    def _error(self, rk, code: int, reason: bytes, opaque) -> None:
        self.logger.error("%s [%s] %s", error_name(code).lstrip("_"), "", reason.decode(errors="replace"))

    def _log(self, rk, level: int, facility: bytes, text: bytes) -> None:
        self.logger.log(SYSLOG_LEVELS.get(level, logging.ERROR), "%s [%s] %s", facility.decode(), "",
                        text.decode(errors="replace"))

    def __len__(self) -> int:
        return self.lib.rd_kafka_outq_len(self.rk)

    def poll(self, timeout: float = 0.0) -> int:
        return self.lib.rd_kafka_poll(self.rk, int(timeout * 1000))

    def flush(self, timeout: float) -> int:
        self.lib.rd_kafka_flush(self.rk, int(timeout * 1000))
        return len(self)

    def purge(self, in_queue: bool = True, in_flight: bool = True) -> None:
        self.lib.rd_kafka_purge(self.rk, (PURGE_QUEUE if in_queue else 0) | (PURGE_INFLIGHT if in_flight else 0))

    def close(self) -> None:
        if self.rk:
            if self.rkt:
                self.lib.rd_kafka_topic_destroy(self.rkt)
            self.lib.rd_kafka_destroy(self.rk)
            self.rk = None


class BatchProducer(Client):
    """A Client producing to one topic, a ring batch at a time."""

    def __init__(self, config: dict[str, object], topic: str, on_delivery: Callable,
                 logger: logging.Logger) -> None:
        super().__init__(config, logger, on_delivery)
        self.rkt = self.lib.rd_kafka_topic_new(self.rk, topic.encode(), None)
        self.messages = np.zeros(0, MESSAGE)
        self.max_messages = int(config.get("queue.buffering.max.messages", DEFAULT_MAX_MESSAGES))
        self.partitions = self._partition_count()
        self.turn = int.from_bytes(os.urandom(4), "little")  # the producers of one sink start apart

    def _partition_count(self) -> int:
        """The topic's partitions, or 0 if they are still unknown after METADATA_WAIT."""
        deadline = time.monotonic() + METADATA_WAIT
        while True:
            left = deadline - time.monotonic()
            _, count = self._metadata(self.rkt, left)
            if count:
                return count
            if left <= METADATA_RETRY:
                return 0
            time.sleep(METADATA_RETRY)

    def produce_lines(self, data: bytes, lines: int, wait: Callable[[], None]) -> list[tuple[bytes, str]]:
        """Produce each newline-ended line of `data` (without its newline) as
        one message, in order. Each call hands over only as many as the local
        queue has room for, so that none is refused for a full queue and then
        overtaken by the next; while it is full, `wait()` (which polls, and so
        serves failure reports) runs. The wait ends as deliveries or their
        timeouts (message.timeout.ms) free the queue. Returns the lines
        librdkafka refused for good, with the reason."""
        view = np.frombuffer(data, np.uint8)
        ends = np.flatnonzero(view == 10)
        if len(ends) != lines:
            raise ValueError(f"send() got {len(ends)} lines, told {lines}")
        if not lines:
            return []
        messages = self._batch(lines)
        starts = np.empty(lines, np.uint64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        messages["payload"] = starts + view.ctypes.data
        messages["len"] = ends.astype(np.uint64) - starts
        refused = []
        partition = self.turn % self.partitions if self.partitions else PARTITION_UA
        self.turn += 1
        while len(messages):
            room = self.room()
            if room <= 0:
                wait()
                continue
            chunk, messages = messages[:room], messages[room:]
            chunk["err"] = 0
            if self.lib.rd_kafka_produce_batch(self.rkt, partition, MSG_F_COPY, chunk.ctypes.data, len(chunk)) == len(chunk):
                continue
            # produce_batch goes on past a refused message: the others are queued.
            full = chunk["err"] == QUEUE_FULL
            for at in np.flatnonzero((chunk["err"] != 0) & ~full):
                value = ctypes.string_at(int(chunk["payload"][at]), int(chunk["len"][at]))
                refused.append((value, error_name(int(chunk["err"][at]))))
            if full.any():  # only the queue's byte limit gets here: hand those over again, in order
                messages = np.concatenate((chunk[full], messages))
                wait()
        return refused

    def room(self) -> int:
        """Messages the local queue takes before it is full (by count: the byte limit is far above a batch)."""
        return self.max_messages - len(self)

    def _batch(self, lines: int) -> np.ndarray:
        if len(self.messages) < lines:
            self.messages = np.zeros(max(lines, 2 * len(self.messages)), MESSAGE)
        return self.messages[:lines]
