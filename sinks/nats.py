"""NATS JetStream: each line (without its newline) is one message on
--subject, stored by the JetStream stream --stream (created before the run
if missing: file storage, limits retention with no limits, so messages are
kept until deleted).

A line is delivered when JetStream acknowledges it. Many are in flight at
once: each message is published with a reply subject of its own (the send
it came with and its place in it) on one inbox subscription, and the acks
are counted as they come, up to --window unacknowledged messages; a send
that would pass the window waits for acks (backpressure). An error ack
(the stream full, say) fails its line with the server's description; a line
without an ack within --timeout, or when the connection breaks, counts
failed ("the server may have stored it"), and the next send connects again.

nats-py is asynchronous: its event loop runs in a thread of the producer
process, and send(), poll() and close() hand it work and wait for the
answer, as the sink contract (sinks/base.py) wants.

Credentials: --creds FILE (or $NATS_CREDS), NATS_USER with NATS_PASSWORD,
NATS_TOKEN, or nats://USER:PASSWORD@HOST in --servers; never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from harness.errors import UserError
from harness.options import number, words
from sinks.base import Ack, split_lines
from sinks.nats_read import CONNECT_TIMEOUT, STAMP, Refused, checked, connect

NAME = "nats"
HELP = "publish each line to a NATS JetStream subject, acknowledged"

DEFAULT_SERVER = "nats://127.0.0.1:4222"
LOST = "connection lost before the ack (the server may have stored it)"
WAIT_SLICE = 0.05  # a window wait looks at the ack deadlines this often


@dataclass(frozen=True)
class Options:
    servers: tuple[str, ...]  # without credentials
    subject: str
    stream: str
    timeout: float
    window: int
    creds: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    verify: bool = False
    e2e: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servers", type=words, default=(DEFAULT_SERVER,), metavar="URL,...",
                        help=f"nats://[USER:PASSWORD@]HOST:PORT, comma-separated (default {DEFAULT_SERVER})")
    parser.add_argument("--subject", default="logstorm", help="the subject to publish to (default logstorm)")
    parser.add_argument("--stream", default="LOGSTORM",
                        help="the JetStream stream storing the subject (default LOGSTORM); created if missing, "
                             "with file storage and limits retention without limits (kept until deleted)")
    parser.add_argument("--creds", default=os.environ.get("NATS_CREDS", ""), metavar="FILE",
                        help="a NATS credentials file (default: $NATS_CREDS); or NATS_USER and NATS_PASSWORD, "
                             "or NATS_TOKEN, from the environment")
    parser.add_argument("--window", type=number(int, 1, 1_000_000), default=20_000, metavar="N",
                        help="messages in flight without an ack, at most (default 20,000)")
    parser.add_argument("--timeout", type=number(float, 0, low_open=True), default=10.0, metavar="SECONDS",
                        help="a message not acknowledged within this time counts as failed (default 10)")
    parser.add_argument("--verify", action="store_true",
                        help="after the run, read the stream back and check every delivered line is there "
                             "exactly once")
    parser.add_argument("--e2e", action="store_true",
                        help="measure end-to-end latency with a subscriber on the subject while the run publishes")


def options(args: argparse.Namespace) -> Options:
    servers, user, password = [], os.environ.get("NATS_USER", ""), os.environ.get("NATS_PASSWORD", "")
    for server in args.servers:
        url = urlsplit(server if "://" in server else "nats://" + server)
        if url.scheme not in ("nats", "tls") or not url.hostname:
            raise UserError(f"--servers: {url.hostname or url.scheme or server!r} is not nats://HOST:PORT")
        try:
            port = url.port or 4222
        except ValueError:
            raise UserError(f"--servers: {url.hostname} has a bad port: it must be 1-65535") from None
        if url.username:
            user, password = unquote(url.username), unquote(url.password or "")
        servers.append(f"{url.scheme}://{url.hostname}:{port}")
    if not args.subject or any(c in args.subject for c in " \t*>") or ".." in args.subject:
        raise UserError(f"--subject {args.subject!r} is not a subject one can publish to (no spaces or wildcards)")
    if not args.stream or any(c in args.stream for c in " \t.*>/\\"):
        raise UserError(f"--stream {args.stream!r} is not a stream name (no spaces, dots, wildcards or slashes)")
    if args.creds and not os.path.isfile(args.creds):
        raise UserError(f"--creds: no such file: {args.creds}")
    return Options(servers=tuple(servers), subject=args.subject, stream=args.stream, timeout=args.timeout,
                   window=args.window, creds=args.creds, user=user, password=password,
                   token=os.environ.get("NATS_TOKEN", ""), verify=args.verify, e2e=args.e2e)


def check(options: Options) -> None:
    """Reach the server (one line within 15 s if we cannot), log in, and make
    sure a JetStream stream takes the subject."""
    checked(options)


def create(options: Options, producer: int, producers: int) -> NatsSink:
    return NatsSink(options)


class Entry:
    """The messages of one send: how many await their ack, and what the acks said."""

    __slots__ = ("intended", "sent_at", "values", "pending", "delivered", "failures", "open")

    def __init__(self, intended: float, values: list[bytes] | None) -> None:
        self.intended = intended
        self.sent_at = time.monotonic()
        self.values = values  # kept for --verify's fingerprint
        self.pending = 0
        self.delivered = 0
        self.failures: Counter[str] = Counter()
        self.open = True  # still being published


class NatsSink:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.longest_send = CONNECT_TIMEOUT + options.timeout
        self.loop = asyncio.new_event_loop()
        self.thread: threading.Thread | None = None
        self.nc = None
        self.inbox = f"_LOGSTORM.{uuid.uuid4().hex}"
        self.entries: dict[str, Entry] = {}
        self.serial = 0
        self.in_flight = 0
        self.changed: asyncio.Event | None = None
        self.fingerprint_sum = None
        if options.verify:
            from sinks.kafka_verify import fingerprint_sum

            self.fingerprint_sum = fingerprint_sum
        self.count = 0
        self.sum = 0

    def _call(self, coroutine, timeout: float):
        """Run `coroutine` on the loop's thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def open(self) -> None:
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats", daemon=True)
        self.thread.start()
        self._call(self._started(), CONNECT_TIMEOUT * 2)

    async def _started(self) -> None:
        self.changed = asyncio.Event()
        try:
            await self._connect()
        except Refused:
            pass  # the first send tries again and counts its lines failed if it cannot

    async def _connect(self) -> None:
        made = []

        async def lost() -> None:
            if made and self.nc is made[0]:  # not a late word about an earlier connection
                self._lost(LOST)

        nc = await connect(self.options, disconnected_cb=lost, closed_cb=lost)
        made.append(nc)
        await nc.subscribe(self.inbox + ".>", cb=self._on_ack, pending_msgs_limit=4 * self.options.window + 1024,
                           pending_bytes_limit=-1)
        self.nc = nc

    def _lost(self, reason: str) -> None:
        """Every message awaiting an ack on the broken connection fails."""
        self.nc = None
        for entry in self.entries.values():
            self._fail_pending(entry, reason)

    def _fail_pending(self, entry: Entry, reason: str) -> None:
        if entry.pending:
            entry.failures[reason] += entry.pending
            self.in_flight -= entry.pending
            entry.pending = 0
            self.changed.set()

    async def _on_ack(self, message) -> None:
        _, serial, index = message.subject.rsplit(".", 2)
        entry = self.entries.get(serial)
        if entry is None or not entry.pending:
            return  # its lines were counted failed already (timed out, or the connection broke)
        data = message.data
        if data and b'"error":{' not in data:  # JetStream's pub ack: {"stream":..,"seq":..} or {"error":{..},..}
            entry.delivered += 1
            if self.fingerprint_sum is not None:
                value = entry.values[int(index)]
                self.count += 1
                self.sum += self.fingerprint_sum((value,))
        else:
            entry.failures[_ack_error(message)] += 1
        entry.pending -= 1
        self.in_flight -= 1
        self.changed.set()

    def send(self, data: bytes, lines: int, intended: float) -> None:
        values = split_lines(data, lines)
        self._call(self._publish(values, intended), None)

    async def _publish(self, values: list[bytes], intended: float) -> None:
        self.serial += 1
        entry = Entry(intended, values if self.fingerprint_sum is not None else None)
        self.entries[str(self.serial)] = entry
        if self.nc is None:
            try:
                await self._connect()
            except Refused as error:
                entry.failures[str(error)] += len(values)
                entry.open = False
                return
        prefix = f"{self.inbox}.{self.serial}."
        subject = self.options.subject
        headers = {STAMP: str(int(intended * 1000))} if self.options.e2e else None
        window = self.options.window
        for index, value in enumerate(values):
            while self.in_flight >= window and self.nc is not None:
                await self._wait(WAIT_SLICE)
            if self.nc is None:
                entry.failures[LOST] += len(values) - index
                break
            entry.pending += 1
            self.in_flight += 1
            try:
                await self.nc.publish(subject, value, reply=prefix + str(index), headers=headers)
            except Exception as error:  # closed meanwhile, or nats-py refused the message
                self._fail_pending(entry, f"not published: {error}")
                entry.failures[f"not published: {error}"] += len(values) - index - 1
                break
        entry.open = False

    async def _wait(self, timeout: float) -> None:
        """Until an ack comes or `timeout` passes; then fail what is overdue."""
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        self._expire()

    def _expire(self) -> None:
        overdue = time.monotonic() - self.options.timeout
        for entry in self.entries.values():
            if entry.pending and entry.sent_at < overdue:
                self._fail_pending(entry, f"no ack within {self.options.timeout:g} s (the server may have stored it)")

    def poll(self, timeout: float = 0.0) -> list[Ack]:
        return self._call(self._collect(timeout), timeout + self.longest_send)

    async def _collect(self, timeout: float) -> list[Ack]:
        self._expire()
        acks = self._settled()
        deadline = time.monotonic() + timeout
        while not acks and self.in_flight and (left := deadline - time.monotonic()) > 0:
            await self._wait(min(left, WAIT_SLICE))
            acks = self._settled()
        return acks

    def _settled(self) -> list[Ack]:
        """Acks for what was settled since the last call; finished sends are forgotten."""
        acks = []
        for serial, entry in list(self.entries.items()):
            if entry.delivered:
                acks.append(Ack(entry.intended, entry.delivered))
                entry.delivered = 0
            for reason, count in entry.failures.items():
                acks.append(Ack(entry.intended, 0, count, reason))
            entry.failures.clear()
            if not entry.pending and not entry.open:
                del self.entries[serial]
        return acks

    def close(self, timeout: float) -> list[Ack]:
        if self.thread is None:
            return []
        try:
            acks = self._call(self._drain(timeout), timeout + self.longest_send)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(CONNECT_TIMEOUT)
            self.thread = None
        return acks

    async def _drain(self, timeout: float) -> list[Ack]:
        deadline = time.monotonic() + timeout
        acks = []
        while self.in_flight and (left := deadline - time.monotonic()) > 0:
            await self._wait(min(left, WAIT_SLICE))
            acks += self._settled()
        for entry in self.entries.values():
            self._fail_pending(entry, "no ack before the run's end (the server may have stored it)")
        acks += self._settled()
        if self.nc is not None:
            nc, self.nc = self.nc, None
            try:
                await asyncio.wait_for(nc.close(), CONNECT_TIMEOUT)
            except Exception:
                pass  # closing a broken connection: its lines are counted already
        return acks

    def fingerprint(self) -> tuple[int, int]:
        """(count, 64-bit sum of line hashes) of the acknowledged lines; --verify only."""
        return self.count, self.sum % 2**64


def _ack_error(message) -> str:
    """Why JetStream did not store a message, from its reply."""
    import json

    status = (message.headers or {}).get("Status", "")
    if status == "503" or not message.data:
        return "no responders: no JetStream stream takes the subject"
    try:
        error = json.loads(message.data).get("error", {})
    except ValueError:
        return f"unreadable ack {message.data[:60]!r}"
    return f"{error.get('description', 'error')} ({error.get('err_code', error.get('code', '?'))})"


def after_run(options: Options, delivered: int, fingerprints: list, started: float) -> tuple[bool, str] | None:
    """--verify: read the stream's messages from the run's start back and
    check every acknowledged line is there exactly once."""
    if not options.verify:
        return None
    from sinks.nats_read import verify

    prints = [f for f in fingerprints if f]
    return verify(options, sum(c for c, _ in prints), sum(s for _, s in prints), since=started)


def observe(options: Options, stop, record, since: float) -> None:
    """--e2e: latency = arrival at a subscriber - the message's intended send time."""
    from sinks.nats_read import e2e_reader

    e2e_reader(options, stop, record, since)
