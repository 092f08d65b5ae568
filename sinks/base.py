"""What every sink supplies. Sinks deliver and report acknowledgements; they
never time anything: the producer process that drives them owns the clock
and turns each Ack into latency (now - intended) in its histogram.

A sink module (sinks/<name>.py) defines:

    NAME: str                      # registry name
    HELP: str                      # one line for `stream --help`
    def add_arguments(parser)      # its own flags
    def options(args) -> Options   # a frozen, picklable dataclass; raise UserError on bad values
    def check(options) -> None     # once, in the supervisor, before anything starts:
                                   # unreachable broker, missing bucket... raise UserError
    def create(options, producer: int, producers: int) -> Sink

A sink whose send() only reads `data` during the call, through the buffer
protocol (no bytes methods), sets `borrows = True`: unpaced, it then gets a
view of the ring's own bytes instead of a copy (harness/run/producer.py).

A sink module may define:

    def prepare(options, resources: ExitStack) -> options
        # once, in the supervisor, before check(): set up what the run needs
        # (an embedded broker), registering its teardown on `resources`
    def after_run(options, delivered: int, fingerprints: list, started: float) -> tuple[bool, str]
        # once, after delivery, while prepared resources still run: e.g. read
        # the topic back and verify; (ok, one line for the summary)
    def cleanup(options) -> str | None
        # once, at the very end of every run, even an aborted one or one whose
        # producers were killed: undo what a dead producer left half-done (an
        # unfinished S3 multipart upload); a line for the summary, or None
    def observe(options, stop: threading.Event, record: Callable[[np.ndarray], None], since: float) -> None
        # when options.e2e is set: runs in its own process during the run and
        # records end-to-end latencies (microseconds) of the lines stamped from
        # `since` (the run's common start, epoch seconds) on, until `stop` is set
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Ack:
    """`delivered` + `failed` lines of one send (or part of one) are settled.
    `intended` is the intended time that was passed to `send`."""

    intended: float
    delivered: int
    failed: int = 0
    reason: str = ""  # why they failed, e.g. "MSG_TIMED_OUT"


class ReaderGone(Exception):
    """Raised by send() when whoever reads the sink's output went away (the
    `head` of `stream stdout | head`): the reader's choice, not a failure.
    The run stops at once and quietly; `delivered` of this send's lines were
    written whole, and the rest count as unsent with `reason`."""

    def __init__(self, delivered: int, reason: str) -> None:
        super().__init__(reason)
        self.delivered = delivered
        self.reason = reason


@dataclass
class Acks:
    """A list of acks with a cheap append for synchronous sinks."""

    pending: list[Ack] = field(default_factory=list)

    def add(self, intended: float, delivered: int, failed: int = 0, reason: str = "") -> None:
        self.pending.append(Ack(intended, delivered, failed, reason))

    def take(self) -> list[Ack]:
        taken, self.pending = self.pending, []
        return taken


class Synchronous:
    """Base of the sinks that deliver inside send(): their acks are ready as
    soon as it returns, so poll() never waits. A subclass implements send()
    and, when it holds something to flush (an open file), finish()."""

    def __init__(self) -> None:
        self.acks = Acks()

    def open(self) -> None:
        pass

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        return self.acks.take()

    def close(self, timeout: float) -> list[Ack]:
        self.finish()
        return self.acks.take()

    def finish(self) -> None:
        """Deliver what is still held; its acks go to self.acks."""


class Windowed:
    """Base of the sinks that keep a window of messages in flight and learn
    of each by an acknowledgement (RabbitMQ's confirms, MQTT's PUBACKs):
    send() publishes as the window has room, serving the connection while it
    has none. A subclass keeps `acks`, `broken` (why the connection is gone,
    once it is) and `last_ack` (when the last acknowledgement came), has
    `options.in_flight` and `options.delivery_timeout`, and defines
    _publish(values, intended), _in_flight(), _overdue() (no acknowledgement
    within the delivery timeout: fail what is in flight, True) and
    _serve(timeout) (read acknowledgements for at most `timeout` seconds)."""

    def send(self, data: bytes, lines: int, intended: float) -> None:
        values = split_lines(data, lines)
        start = 0
        while start < len(values) and not self.broken:
            room = self._wait_for_room(len(values) - start)
            if room:
                part = values[start:start + room]
                self._publish(part, intended)
                start += len(part)
        if start < len(values):
            self.acks.append(Ack(intended, 0, len(values) - start, f"not sent: {self.broken}"))
        self._serve(0)

    def _wait_for_room(self, wanted: int) -> int:
        """How many may be published now, serving the connection while none may."""
        while not self.broken and not self._overdue():
            room = self.options.in_flight - self._in_flight()
            # Room for half the window (or all that is wanted) before publishing
            # again: a few messages at a time, each costing a pass of the loop, is slower.
            if room >= min(wanted, (self.options.in_flight + 1) // 2):
                return room
            self._serve(self.last_ack + self.options.delivery_timeout - time.monotonic())
        return 0


@dataclass(frozen=True)
class NoOptions:
    """The options of a sink that has none."""


def no_arguments(parser) -> None:
    """add_arguments of a sink without flags."""


def no_options(args) -> NoOptions:
    return NoOptions()


def nothing_to_check(options) -> None:
    """check() of a sink whose target is always there."""


class Sink(Protocol):
    def open(self) -> None:
        """Connect; raise UserError if the target cannot be used."""

    def send(self, data: bytes, lines: int, intended: float) -> None:
        """Deliver `lines` newline-terminated lines (`data`). May block when
        the sink is full (backpressure), never spin. A sink whose send may
        block longer than the supervisor's HUNG_SECONDS says how long in an
        attribute `longest_send` (seconds), or it is taken for hung."""

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        """Acks that arrived since the last call."""

    def close(self, timeout: float) -> list[Ack]:
        """Flush within `timeout` seconds; return the remaining acks, with
        anything still undelivered counted as failed (with its reason)."""


def new_run_id() -> str:
    """Sortable, unique across runs, safe in file and object names (no colons)."""
    import secrets
    import time

    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def split_lines(data: bytes, lines: int) -> list[bytes]:
    """The `lines` lines of `data`, without their newlines: one message each
    for the sinks that send a line as a message. A count that does not match
    is the harness's bug, not the user's: ValueError."""
    values = data.split(b"\n")
    if values[-1] == b"":
        values.pop()
    if len(values) != lines:
        raise ValueError(f"send() got {len(values)} lines, told {lines}")
    return values


def cut(data: bytes, lines: int, start: int = 0) -> int:
    """Byte offset just past the `lines`-th newline of `data` from `start`
    (len(data) when it holds fewer)."""
    at = start
    for _ in range(lines):
        at = data.find(b"\n", at) + 1
        if at == 0:
            return len(data)
    return at
