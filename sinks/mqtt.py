"""MQTT (paho-mqtt, MQTT 3.1.1): one message per line (without its newline) on
--topic, at --qos 0, 1 (the default) or 2.

Delivered = acknowledged by the broker: PUBACK at QoS 1, PUBCOMP at QoS 2.
(MQTT 5 would add a reason code to each, and costs paho about a third more
per message to decode; a 3.1.1 broker that will not take a message closes
the connection, and what is in flight fails with that.) At QoS 0 the broker
acknowledges nothing: those lines are "sent, unacknowledged". The sink says
so (`unacknowledged()`): the summary reads "N sent, unacknowledged", the
result file "acknowledged": false, and only --verify (a subscriber) tells
what arrived.

paho connects (credentials, CONNACK); then the publish path is
sinks/mqtt_wire.py on paho's socket, in the producer's own thread: send()
publishes while fewer than --in-flight messages await their
acknowledgement and otherwise waits on the socket for them (backpressure,
never a spin). The broker acknowledges a client's messages in the order
sent (MQTT 3.1.1, 4.6), so acknowledgements are counted, oldest first.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.options import number
from sinks.base import Ack, Windowed, new_run_id

NAME = "mqtt"
HELP = "publish each line as one MQTT message (QoS 1 by default), acknowledged by the broker"
CONNECT_TIMEOUT = 8.0  # an unreachable broker is one line well within 15 s
KEEPALIVE = 30
PASSWORD_VARIABLE = "MQTT_PASSWORD"
IN_FLIGHT = 5000
IN_FLIGHT_QOS2 = 20  # mosquitto's default max_inflight_messages


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    topic: str
    qos: int
    in_flight: int
    delivery_timeout: float
    username: str | None
    password: str | None = field(repr=False)  # from MQTT_PASSWORD: never printed
    verify: bool = False
    run_id: str = ""  # client ids: logstorm-RUN-N

    def where(self) -> str:
        return f"{self.host}:{self.port}"


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="MQTT broker host (default 127.0.0.1)")
    parser.add_argument("--port", type=number(int, 1, 65535), default=1883, help="its port (default 1883)")
    parser.add_argument("--topic", default="logstorm", help="topic to publish to (default logstorm)")
    parser.add_argument("--qos", type=int, choices=(0, 1, 2), default=1,
                        help="1 (default): acknowledged once received; 2: exactly once; 0: unacknowledged")
    parser.add_argument("--in-flight", type=number(int, 1, 65535), default=None,
                        help=f"messages awaiting their acknowledgement at most (default {IN_FLIGHT}; at QoS 2 "
                             f"{IN_FLIGHT_QOS2}: mosquitto drops a client with more QoS 2 messages in flight than "
                             "its max_inflight_messages)")
    parser.add_argument("--delivery-timeout", type=number(float, 0, 3600, low_open=True), default=30.0,
                        help="seconds without an acknowledgement before what is in flight counts as failed")
    parser.add_argument("--username", default=None, help=f"user name (the password comes from ${PASSWORD_VARIABLE})")
    parser.add_argument("--verify", action="store_true",
                        help="subscribe before the run and check that every delivered line arrived exactly once")


def options(args) -> Options:
    if not args.topic or any(c in args.topic for c in "+#"):
        raise UserError(f"--topic {args.topic!r}: give a topic name without wildcards (+ #)")
    password = os.environ.get(PASSWORD_VARIABLE)
    in_flight = args.in_flight or (IN_FLIGHT_QOS2 if args.qos == 2 else IN_FLIGHT)
    return Options(args.host, args.port, args.topic, args.qos, in_flight, args.delivery_timeout,
                   args.username, password, args.verify, new_run_id())


def client(options: Options, name: str):
    """A paho client (not yet connected) with our credentials."""
    import paho.mqtt.client as mqtt

    made = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"logstorm-{options.run_id}-{name}",
                       protocol=mqtt.MQTTv311)
    if options.username is not None or options.password is not None:
        made.username_pw_set(options.username, options.password)
    return made


def connect(made, options: Options) -> None:
    """Connect and wait for CONNACK by serving the loop here; a UserError
    naming the broker and the cause if it is refused or does not answer."""
    answer: list = []
    made.on_connect = lambda c, userdata, flags, code, properties: answer.append(code)
    try:
        made.connect(options.host, options.port, keepalive=KEEPALIVE)
    except OSError as error:
        raise UserError(f"cannot reach the MQTT broker at {options.where()}: {error.strerror or error}") from None
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while not answer and time.monotonic() < deadline:
        if made.loop(timeout=0.1) != 0 and not answer:
            break
    if not answer:
        raise UserError(f"the MQTT broker at {options.where()} did not accept the connection "
                        f"within {CONNECT_TIMEOUT:g} s")
    if answer[0].is_failure:
        raise UserError(f"the MQTT broker at {options.where()} refused the connection: {answer[0]}")


def unacknowledged(options: Options) -> bool:
    """QoS 0: the lines were sent, and nothing says they arrived."""
    return options.qos == 0


def check(options: Options) -> None:
    probe = client(options, "check")
    try:
        connect(probe, options)
    finally:
        probe.disconnect()


def create(options: Options, producer: int, producers: int) -> MqttSink:
    return MqttSink(options, producer)


class MqttSink(Windowed):
    def __init__(self, options: Options, index: int = 0) -> None:
        self.options = options
        self.index = index
        self.longest_send = options.delivery_timeout + CONNECT_TIMEOUT
        self.client = None
        self.wire = None  # sinks.mqtt_wire.Wire, once connected
        self.broken = ""  # why the connection is gone, once it is
        self.published = 0
        self.settled = 0
        self.sent: deque[list] = deque()  # [intended, lines not yet settled], oldest first
        self.unwritten: deque[list] = deque()  # QoS 0: [bytes written when done, lines], oldest first
        self.acks: list[Ack] = []
        self.last_ack = time.monotonic()
        self.count = 0
        self.sum = 0
        self.in_flight: deque[list] = deque()  # --verify: [values, lines not yet settled], oldest first

    def open(self) -> None:
        from sinks.mqtt_wire import Wire

        self.client = client(self.options, str(self.index))
        connect(self.client, self.options)
        self.wire = Wire(self.client.socket(), self.options.topic, self.options.qos, KEEPALIVE)

    def _break(self, why: str) -> None:
        """Whatever awaits an acknowledgement now never gets one: failed, with `why`."""
        if not self.broken:
            self.broken = why
        self.unwritten.clear()
        # The broker may have taken some of them: failed, and in doubt (a read-back tells).
        self._settle(self.published - self.settled, failed=f"in doubt: {self.broken}")

    def _settle(self, count: int, failed: str = "") -> None:
        """The oldest `count` messages in flight are settled."""
        self.settled += count
        while count:
            entry = self.sent[0]
            take = min(count, entry[1])
            self.acks.append(Ack(entry[0], 0, take, failed) if failed else Ack(entry[0], take))
            if self.options.verify:
                self._fingerprint(take, counted=not failed)
            entry[1] -= take
            count -= take
            if not entry[1]:
                self.sent.popleft()

    def _fingerprint(self, count: int, counted: bool) -> None:
        """--verify: the oldest `count` lines in flight are settled; `counted`
        if a subscriber should have them."""
        while count:
            entry = self.in_flight[0]
            values, left = entry
            take = min(count, left)
            if counted:
                self.count += take
                self.sum += fingerprint_sum(values[len(values) - left:len(values) - left + take])
            entry[1] -= take
            count -= take
            if not entry[1]:
                self.in_flight.popleft()

    def _publish(self, values: list[bytes], intended: float) -> None:
        if self.published == self.settled:  # the wait for an acknowledgement starts now, not at the last one
            self.last_ack = time.monotonic()
        self.sent.append([intended, len(values)])
        if self.options.verify:
            self.in_flight.append([values, len(values)])
        self.published += len(values)
        written_at = self.wire.publish(values)
        if self.options.qos == 0:
            self.unwritten.append([written_at, len(values)])

    def _in_flight(self) -> int:
        return self.published - self.settled

    def _overdue(self) -> bool:
        """No acknowledgement for --delivery-timeout while some are awaited:
        they fail and the connection is dropped. True if so."""
        if self.published == self.settled or time.monotonic() - self.last_ack < self.options.delivery_timeout:
            return False
        self._break(f"no acknowledgement within {self.options.delivery_timeout:g} s")
        return True

    def _serve(self, timeout: float) -> None:
        from sinks.mqtt_wire import Closed

        try:
            done = self.wire.serve(timeout)
        except Closed as closed:
            self._break(str(closed))
            return
        if done:
            self.last_ack = time.monotonic()
            self._settle(done)
        while self.unwritten and self.unwritten[0][0] <= self.wire.written:  # QoS 0: sent once handed to the kernel
            self.last_ack = time.monotonic()
            self._settle(self.unwritten.popleft()[1])

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        if self.wire is not None and not self.broken and not self._overdue():
            self._serve(0)
            deadline = time.monotonic() + timeout
            while not self.acks and self.published > self.settled and not self.broken \
                    and (left := deadline - time.monotonic()) > 0:
                self._serve(left)
        acks, self.acks = self.acks, []
        return acks

    def close(self, timeout: float) -> list[Ack]:
        if self.wire is None:
            return []
        deadline = time.monotonic() + timeout
        while self.published > self.settled and not self.broken and (left := deadline - time.monotonic()) > 0:
            self._serve(left)
        if self.published > self.settled:
            self._break(f"no acknowledgement within the {timeout:g} s of closing")
        self.wire.close(min(1.0, timeout))
        self.wire = self.client = None
        acks, self.acks = self.acks, []
        return acks

    def fingerprint(self) -> tuple[int, int]:
        """(count, 64-bit sum of line hashes) of the delivered lines; --verify only."""
        return self.count, self.sum % 2**64


# --verify: the subscriber each run starts in prepare() and reads in after_run(),
# both in the supervisor, by the run id.
SUBSCRIBERS: dict[str, "Subscriber"] = {}
SETTLE = 1.0  # after the expected count arrived, wait this long for duplicates before saying "exactly once"
VERIFY_IDLE_SECONDS = 10.0


class Subscriber:
    """Subscribed to --topic (at --qos) before the run, then read on a thread
    of its own (sinks/mqtt_wire.py's Reader), counting what arrives: count
    and fingerprint sum."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.client = client(options, "verify")
        self.count = 0
        self.sum = 0
        self.last = time.monotonic()
        self.problem = ""
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> Subscriber:
        from sinks.mqtt_wire import Reader

        connect(self.client, self.options)
        granted: list = []
        self.client.on_subscribe = lambda c, userdata, mid, codes, properties: granted.extend(codes)
        self.client.subscribe(self.options.topic, self.options.qos)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not granted and time.monotonic() < deadline:
            self.client.loop(timeout=0.1)
        if not granted or granted[0].is_failure:
            self.client.disconnect()
            raise UserError(f"the MQTT broker at {self.options.where()} refused a subscription to "
                            f"{self.options.topic} (for --verify): {granted[0] if granted else 'no answer'}")
        reader = Reader(self.client.socket(), self._arrived, KEEPALIVE)
        self.thread = threading.Thread(target=self._read, args=(reader,), name="mqtt-verify", daemon=True)
        self.thread.start()
        return self

    def _read(self, reader) -> None:
        from sinks.mqtt_wire import Closed

        try:
            while not self.stopping.is_set():
                reader.serve(0.1)
        except Closed as closed:
            self.problem = str(closed)

    def _arrived(self, payloads: list[bytes]) -> None:
        self.count += len(payloads)
        self.sum += fingerprint_sum(payloads)
        self.last = time.monotonic()

    def wait(self, expected: int, idle: float) -> None:
        """Until `expected` have come and nothing more for SETTLE, or nothing came for `idle`."""
        while not self.problem:
            quiet = time.monotonic() - self.last
            if quiet > (SETTLE if self.count >= expected else idle):
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        sock = self.client.socket()
        if sock is not None:
            sock.close()


def prepare(options: Options, resources: ExitStack) -> Options:
    """--verify: subscribe before anything is published (a thread in the
    supervisor: the run's children are then spawned, not forked)."""
    if options.verify:
        subscriber = SUBSCRIBERS[options.run_id] = Subscriber(options).start()
        resources.callback(subscriber.stop)
        resources.callback(SUBSCRIBERS.pop, options.run_id, None)
    return options


def after_run(options: Options, delivered: int, fingerprints: list, started: float) -> tuple[bool, str] | None:
    """--verify: every line delivered (at QoS 0: sent) arrived at the
    subscriber exactly once."""
    subscriber = SUBSCRIBERS.get(options.run_id)
    if subscriber is None:
        return None
    from sinks.kafka_verify import judge

    prints = [f for f in fingerprints if f]
    expected = sum(count for count, _ in prints)
    subscriber.wait(expected, VERIFY_IDLE_SECONDS)
    result = judge(expected, sum(total for _, total in prints) % 2**64, subscriber.count, subscriber.sum % 2**64,
                   f"the subscriber to {options.topic}")
    if subscriber.problem:
        return False, f"verify: the subscriber to {options.topic} lost its connection: {subscriber.problem}"
    said = result.message.replace("are in the subscriber", "reached the subscriber")
    if options.qos == 0:
        said = "QoS 0, sent, unacknowledged: " + said.replace("delivered lines", "lines sent")
    return result.ok, said


def fingerprint_sum(values: list[bytes]) -> int:
    from sinks.kafka_verify import fingerprint_sum as of

    return of(values)
