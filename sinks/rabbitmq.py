"""RabbitMQ (AMQP 0-9-1, on pika): one message per line (without its
newline), with publisher confirms and many messages in flight.

Delivered = confirmed by the broker (Basic.Ack): the message was routed to
its queues (and, with --persistent to a durable queue, written to disk). A
Basic.Nack is a failure; so is a message returned as unroutable (every
message is published with the mandatory flag: the Basic.Return comes before
the Ack that settles it, so returns are counted against the next Ack).

pika's SelectConnection is driven here, in the producer's own thread: send()
publishes while fewer than --in-flight messages await their confirm, and
otherwise waits on the socket for confirms (backpressure, never a spin). A
plain publish-and-wait loop (BlockingChannel with confirms) has one message
in flight at a time.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from harness.errors import UserError
from harness.options import number
from sinks.base import Ack, Windowed, new_run_id

NAME = "rabbitmq"
HELP = "publish each line as one AMQP message to RabbitMQ, with publisher confirms"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_QUEUE = "logstorm"
CONNECT_TIMEOUT = 8.0  # socket and handshake: an unreachable server is one line well within 15 s


@dataclass(frozen=True)
class Options:
    url: str = field(repr=False)  # may hold a password: shown only through where()
    exchange: str
    routing_key: str
    queue: str | None
    persistent: bool
    in_flight: int
    delivery_timeout: float
    verify: bool
    run_id: str  # every message carries it (app_id): --verify counts this run's lines only

    def where(self) -> str:
        return hidden(self.url)


def hidden(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def add_arguments(parser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL,
                        help=f"amqp://USER:PASSWORD@HOST:PORT/VHOST (default {hidden(DEFAULT_URL)}; "
                             "the password is never printed)")
    parser.add_argument("--exchange", default="", help="exchange to publish to (default: the default exchange)")
    parser.add_argument("--routing-key", default=None, help="routing key (default: the --queue name)")
    parser.add_argument("--queue", default=None,
                        help=f"declare this queue (durable) if missing and, with --exchange, bind it with the routing "
                             f"key (default {DEFAULT_QUEUE} when neither --exchange nor --routing-key is given)")
    parser.add_argument("--persistent", action="store_true", help="delivery mode 2: the broker writes them to disk")
    parser.add_argument("--in-flight", type=number(int, 1, 1_000_000), default=2000,
                        help="messages awaiting their confirm at most (default 2000)")
    parser.add_argument("--delivery-timeout", type=number(float, 0, 3600, low_open=True), default=30.0,
                        help="seconds without a confirm before what is in flight counts as failed (default 30)")
    parser.add_argument("--verify", action="store_true",
                        help="after the run, read --queue back (without taking the messages) and check that every "
                             "delivered line is there exactly once")


def options(args) -> Options:
    parts = urlsplit(args.url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        raise UserError(f"--url {hidden(args.url)}: give amqp://[USER:PASSWORD@]HOST[:PORT][/VHOST]")
    queue = args.queue or (DEFAULT_QUEUE if not args.exchange and args.routing_key is None else None)
    routing_key = args.routing_key if args.routing_key is not None else queue
    if routing_key is None:
        raise UserError(f"--exchange {args.exchange}: give --queue or --routing-key (where should the lines go?)")
    if args.verify and not queue:
        raise UserError("--verify reads the lines back from --queue: give one")
    return Options(args.url, args.exchange, routing_key, queue, args.persistent, args.in_flight,
                   args.delivery_timeout, args.verify, new_run_id())


def _parameters(options: Options):
    import pika

    parameters = pika.URLParameters(options.url)
    parameters.socket_timeout = CONNECT_TIMEOUT
    parameters.stack_timeout = CONNECT_TIMEOUT
    parameters.blocked_connection_timeout = options.delivery_timeout
    parameters.connection_attempts = 1
    return parameters


def connect(options: Options):
    """A BlockingConnection, or a UserError naming the server and the cause."""
    import pika.exceptions

    try:
        return pika.BlockingConnection(_parameters(options))
    except pika.exceptions.ProbableAuthenticationError:
        raise UserError(f"RabbitMQ at {options.where()} refused the user name or password") from None
    except pika.exceptions.AMQPError as error:
        raise UserError(f"cannot reach RabbitMQ at {options.where()}: {reason(error)}") from None


def reason(error: BaseException) -> str:
    """A pika exception as one line: the innermost cause it wraps (pika nests
    them: AMQPConnectionError(AMQPConnectorSocketConnectError(ConnectionRefusedError)))."""
    while True:
        inner = getattr(error, "exception", None) or (error.args[0] if error.args else None)
        if not isinstance(inner, BaseException):
            break
        error = inner
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def check(options: Options) -> None:
    """Reach the server, declare --queue (and bind it), check the exchange."""
    import pika.exceptions

    connection = connect(options)
    try:
        channel = connection.channel()
        if options.exchange:
            channel.exchange_declare(options.exchange, passive=True)
        if options.queue:
            channel = _declare(connection, channel, options.queue)
            if options.exchange:
                channel.queue_bind(options.queue, options.exchange, routing_key=options.routing_key)
    except pika.exceptions.ChannelClosedByBroker as error:
        raise UserError(f"RabbitMQ at {options.where()}: {error.reply_text}") from None
    except pika.exceptions.AMQPError as error:
        raise UserError(f"RabbitMQ at {options.where()}: {reason(error)}") from None
    finally:
        if connection.is_open:
            connection.close()


def _declare(connection, channel, queue: str):
    """The queue as it is if it exists (whatever its arguments: declaring it
    again with others is refused), else a new durable one. Returns a usable
    channel (the broker closes the one whose passive declare found nothing)."""
    import pika.exceptions

    try:
        channel.queue_declare(queue, passive=True)
        return channel
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code != 404:
            raise
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    return channel


def create(options: Options, producer: int, producers: int) -> RabbitSink:
    return RabbitSink(options)


class RabbitSink(Windowed):
    def __init__(self, options: Options) -> None:
        self.options = options
        self.longest_send = options.delivery_timeout + CONNECT_TIMEOUT
        self.connection = None
        self.channel = None
        self.broken = ""  # why the connection or channel is gone, once it is
        self.published = 0  # the last delivery tag used
        self.floor = 0  # every tag up to here is settled
        self.singles: set[int] = set()  # tags above `floor` settled by a single (not multiple) confirm
        self.batches: deque[list] = deque()  # [intended, first tag, last tag, its lines if --verify], oldest first
        self.returned: list[tuple[bytes, str]] = []  # returned as unroutable, with why; not yet settled by their Ack
        self.acks: list[Ack] = []
        self.last_ack = time.monotonic()
        self.count = 0
        self.sum = 0
        self.frames = None  # sinks.rabbitmq_frames.Frames, once the channel is ready

    def open(self) -> None:
        import pika

        self.connection = pika.SelectConnection(_parameters(self.options), on_open_callback=self._opened,
                                                on_open_error_callback=self._failed_to_open,
                                                on_close_callback=self._closed)
        self.connection.ioloop.activate_poller()  # what IOLoop.start() does before its loop: we run the loop
        deadline = time.monotonic() + 2 * CONNECT_TIMEOUT
        while self.channel is None and not self.broken and time.monotonic() < deadline:
            self._serve(deadline - time.monotonic())
        if self.channel is None:
            raise UserError(f"cannot reach RabbitMQ at {self.options.where()}: {self.broken or 'no answer'}")

    def _opened(self, connection) -> None:
        connection.channel(on_open_callback=self._channel_opened)

    def _channel_opened(self, channel) -> None:
        channel.add_on_close_callback(self._channel_closed)
        channel.add_on_return_callback(self._returned)
        channel.confirm_delivery(self._confirmed, callback=lambda frame: self._ready(channel))

    def _ready(self, channel) -> None:
        self.channel = channel
        from sinks.rabbitmq_frames import Frames

        self.frames = Frames(self.connection, channel, self.options)

    def _failed_to_open(self, connection, error) -> None:
        self.broken = reason(error)

    def _closed(self, connection, error) -> None:
        self._break(f"connection lost: {reason(error)}")

    def _channel_closed(self, channel, error) -> None:
        self._break(f"channel closed: {reason(error)}")

    def _break(self, why: str) -> None:
        """Whatever awaits a confirm now never gets one: failed, with `why`."""
        if not self.broken:
            self.broken = why
        self.channel = None
        # The broker may have routed some of them: failed, and in doubt (a read-back tells).
        self._settle(self.published, multiple=True, failed=f"in doubt: {self.broken}")

    def _serve(self, timeout: float) -> None:
        """Serve the socket: write what is buffered, read confirms; wait at most `timeout`."""
        loop = self.connection.ioloop
        timer = loop.call_later(max(0.0, timeout), _nothing)
        loop.poll()
        loop.process_timeouts()
        loop.remove_timeout(timer)

    def _publish(self, values: list[bytes], intended: float) -> None:
        if not self._in_flight():  # the wait for a confirm starts now, not at the last one
            self.last_ack = time.monotonic()
        self.frames.publish(values)
        # --verify keeps the lines until confirmed: at most --in-flight of them.
        self.batches.append([intended, self.published + 1, self.published + len(values),
                             values if self.options.verify else None])
        self.published += len(values)

    def _in_flight(self) -> int:
        return self.published - self.floor - len(self.singles)

    def _overdue(self) -> bool:
        """No confirm for --delivery-timeout while some are awaited: they
        fail and the connection is closed. True if so."""
        if not self._in_flight() or time.monotonic() - self.last_ack < self.options.delivery_timeout:
            return False
        self._break(f"no confirm within {self.options.delivery_timeout:g} s")
        if self.connection.is_open:
            self.connection.close()
            self._serve(0)
        return True

    def _returned(self, channel, method, properties, body: bytes) -> None:
        self.returned.append((body, f"returned: {method.reply_code} {method.reply_text}"))

    def _confirmed(self, frame) -> None:
        import pika.spec

        method = frame.method
        self.last_ack = time.monotonic()
        nack = isinstance(method, pika.spec.Basic.Nack)
        tag = method.delivery_tag or self.published  # tag 0 with multiple: everything so far
        self._settle(tag, method.multiple, failed="nacked by the broker" if nack else "")

    def _settle(self, tag: int, multiple: bool, failed: str = "") -> None:
        """Turn the confirm of `tag` (and, if `multiple`, of every tag
        before it not yet settled) into Acks, batch by batch."""
        if tag <= self.floor or tag in self.singles:
            return
        low = self.floor + 1 if multiple else tag
        earlier = {t for t in self.singles if t <= tag} if multiple else set()
        for intended, first, last, values in self.batches:
            if first > tag:
                break
            tags = [t for t in range(max(first, low), min(last, tag) + 1) if t not in earlier] \
                if earlier else range(max(first, low), min(last, tag) + 1)
            if tags:
                self._ack(intended, tags, values and [values[t - first] for t in tags], failed)
        if multiple:
            self.floor = tag
            self.singles -= earlier
        else:
            self.singles.add(tag)
        while self.floor + 1 in self.singles:
            self.floor += 1
            self.singles.discard(self.floor)
        while self.batches and self.batches[0][2] <= self.floor:
            self.batches.popleft()

    def _ack(self, intended: float, tags, values: list[bytes] | None, failed: str) -> None:
        """Confirmed `tags` of one send: failed with `failed` if set, else
        delivered but for the returned messages they hold (which come first)."""
        if failed:
            self.acks.append(Ack(intended, 0, len(tags), failed))
            return
        bounced, self.returned = self.returned[:len(tags)], self.returned[len(tags):]
        for why in {why for _, why in bounced}:
            self.acks.append(Ack(intended, 0, sum(w == why for _, w in bounced), why))
        if len(tags) > len(bounced):
            self.acks.append(Ack(intended, len(tags) - len(bounced)))
        if values is not None:
            self.count += len(values) - len(bounced)
            self.sum += fingerprint_sum(values) - fingerprint_sum([body for body, _ in bounced])

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        if self.connection is not None and not self.connection.is_closed and not self._overdue():
            self._serve(0)
            deadline = time.monotonic() + timeout
            while not self.acks and self._in_flight() and not self.broken and (left := deadline - time.monotonic()) > 0:
                self._serve(left)
        acks, self.acks = self.acks, []
        return acks

    def close(self, timeout: float) -> list[Ack]:
        if self.connection is None:
            return []
        deadline = time.monotonic() + timeout
        while self._in_flight() and not self.broken and (left := deadline - time.monotonic()) > 0:
            self._serve(left)
        if self._in_flight():
            self._break(f"no confirm within the {timeout:g} s of closing")
        if self.connection.is_open:
            self.connection.close()
            close_by = time.monotonic() + CONNECT_TIMEOUT
            while not self.connection.is_closed and time.monotonic() < close_by:
                self._serve(close_by - time.monotonic())
        self.connection = None
        acks, self.acks = self.acks, []
        return acks

    def fingerprint(self) -> tuple[int, int]:
        """(count, 64-bit sum of line hashes) of the delivered lines; --verify only."""
        return self.count, self.sum % 2**64


def _nothing() -> None:
    """A timer that only bounds the wait of IOLoop.poll()."""


def fingerprint_sum(values: list[bytes]) -> int:
    from sinks.kafka_verify import fingerprint_sum as of

    return of(values)


def after_run(options: Options, delivered: int, fingerprints: list, started: float) -> tuple[bool, str] | None:
    if not options.verify:
        return None
    from sinks.rabbitmq_verify import verify

    return verify(options, connect(options), fingerprints)
