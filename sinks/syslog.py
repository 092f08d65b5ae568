"""Syslog: each line as one syslog message over UDP, TCP or TLS (RFC 5425),
to rsyslog, syslog-ng, Vector, Fluent Bit, Logstash or any syslog receiver.

    --target tcp://127.0.0.1:5514 --framing octet-counting --envelope rfc5424

- TCP and TLS frame messages per RFC 6587: octet-counting (the default) or
  lf. A send counts as delivered once the server's TCP acknowledged all of
  its bytes (sinks/syslog_stream.py); lines written to a connection that then
  failed are failed as "in doubt" (the server may or may not have read them).
  A failed connection is made again with backoff (RECONNECT_SECONDS), and a
  send of which nothing was written yet goes out on the new one.
- UDP sends one datagram per line and hears nothing back: its lines are "sent,
  unacknowledged", never called delivered (a read-back at the far end tells
  what arrived). A datagram larger than UDP allows fails with that reason.
- `--envelope` puts a syslog header in front of lines of another format (the
  `syslog` format is syslog already: --envelope none, the default).
- `--connections N` are spread over the producers, at least one each.
"""

from __future__ import annotations

import argparse
import socket
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.errors import UserError
from harness.options import number
from sinks.base import Acks, Synchronous
from sinks.syslog_stream import SEND_TIMEOUT, Broken, Connection, reason_of, tls_context
from sinks.syslog_wire import ENVELOPES, FRAMINGS, enveloped, framed, header, messages

NAME = "syslog"
HELP = "send each line as a syslog message over udp://, tcp:// or tls://"
SCHEMES = ("udp", "tcp", "tls")
MAX_DATAGRAM = 65507  # IPv4: 65,535 less the IP and UDP headers
RECONNECT_SECONDS = 10.0
FIRST_BACKOFF, MAX_BACKOFF = 0.05, 1.0
CLOSE_SLICE = 0.005
APP_NAME = "logstorm"


@dataclass(frozen=True)
class Options:
    scheme: str
    host: str
    port: int
    framing: str
    envelope: str
    connections: int
    ca: str | None
    insecure: bool
    hostname: str

    @property
    def target(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None, metavar="udp|tcp|tls://HOST:PORT", help="the syslog server")
    parser.add_argument("--framing", choices=FRAMINGS, default="octet-counting",
                        help="TCP/TLS framing per RFC 6587 (default octet-counting)")
    parser.add_argument("--envelope", choices=ENVELOPES, default="none",
                        help="syslog header put in front of each line (default none: the syslog format has its own)")
    parser.add_argument("--connections", type=number(int, 1, 1024), default=1, metavar="N",
                        help="TCP/TLS connections, spread over the producers (at least one each)")
    parser.add_argument("--ca", default=None, metavar="FILE", help="TLS: the CA certificate (PEM) that signed the server's")
    parser.add_argument("--insecure", action="store_true", help="TLS: do not verify the server's certificate")


def options(args: argparse.Namespace) -> Options:
    if not args.target:
        raise UserError("the syslog sink needs --target udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
    parts = urlsplit(args.target)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or not port or parts.path not in ("", "/"):
        raise UserError(f"--target {args.target}: expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
    if (args.ca or args.insecure) and parts.scheme != "tls":
        raise UserError(f"--ca and --insecure are for tls:// targets, not {parts.scheme}://")
    return Options(parts.scheme, parts.hostname, port, args.framing, args.envelope, args.connections, args.ca,
                   args.insecure, socket.gethostname().split(".")[0] or "-")


def unacknowledged(options: Options) -> bool:
    """UDP: the lines were sent, and nothing says they arrived."""
    return options.scheme == "udp"


def check(options: Options) -> None:
    """The host resolves; a TCP or TLS server accepts us (and its certificate)."""
    try:
        socket.getaddrinfo(options.host, options.port)
    except OSError as error:
        raise UserError(f"syslog: cannot resolve {options.host}: {error.strerror or error}") from None
    if options.scheme == "udp":
        return
    try:
        Connection(options.host, options.port, _context(options), timeout=5.0).close()
    except Broken as broken:
        raise UserError(f"syslog: cannot connect to {options.target}: {broken.reason}") from None
    except OSError as error:  # an unreadable --ca
        raise UserError(f"syslog: --ca {options.ca}: {error.strerror or error}") from None


def _context(options: Options):
    return tls_context(options.ca, options.insecure) if options.scheme == "tls" else None


def in_doubt(reason: str) -> str:
    return f"in doubt: written to a connection that then failed ({reason})"


class StreamSink:
    """TCP or TLS, on this producer's share of the connections, in turn."""

    longest_send = SEND_TIMEOUT + RECONNECT_SECONDS  # a stalled server, then a reconnection
    # send() frames a batch into new bytes, or, unframed and unenveloped,
    # has written it to the socket or the TLS buffer before it returns.
    borrows = True

    def __init__(self, options: Options, share: int) -> None:
        self.options = options
        self.context = _context(options)
        self.connections: list[Connection | None] = [None] * share
        self.turn = 0
        self.acks = Acks()
        self.gave_up = ""  # why the last reconnection failed: later ones try once, not for RECONNECT_SECONDS

    def open(self) -> None:
        for i in range(len(self.connections)):
            if self._connected(i) is None:
                raise UserError(f"syslog: cannot connect to {self.options.target}: {self.gave_up}")

    def _connected(self, i: int) -> Connection | None:
        """Connection i, made again (with backoff) if it failed; None if it cannot be."""
        if self.connections[i] is not None:
            return self.connections[i]
        deadline = time.monotonic() + (0.0 if self.gave_up else RECONNECT_SECONDS)
        delay = FIRST_BACKOFF
        while True:
            try:
                self.connections[i] = Connection(self.options.host, self.options.port, self.context)
                self.gave_up = ""
                return self.connections[i]
            except Broken as broken:
                if time.monotonic() + delay > deadline:
                    self.gave_up = broken.reason
                    return None
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def _lose(self, i: int, reason: str) -> None:
        """Connection i failed: what it still held unacknowledged is in doubt."""
        connection = self.connections[i]
        for pending in connection.take_pending():
            self.acks.add(pending.intended, 0, pending.lines, in_doubt(reason))
        connection.close()
        self.connections[i] = None

    def send(self, data: bytes | memoryview, lines: int, intended: float) -> None:
        prefix = header(self.options.envelope, intended, self.options.hostname, APP_NAME)
        frames = framed(data, self.options.framing, prefix)
        i = self.turn % len(self.connections)
        self.turn += 1
        for _ in range(2):  # a send of which nothing was written gets one more connection
            connection = self._connected(i)
            if connection is None:
                self.acks.add(intended, 0, lines, f"not sent: cannot connect ({self.gave_up})")
                return
            try:
                connection.write(frames, lines, intended)
                return
            except Broken as broken:
                self._lose(i, broken.reason)
                if broken.written:
                    self.acks.add(intended, 0, lines, in_doubt(broken.reason))
                    return
        self.acks.add(intended, 0, lines, "not sent: the new connection failed too")

    def poll(self, timeout: float = 0.0) -> list:
        for i, connection in enumerate(self.connections):
            if connection is None:
                continue
            done, failed = connection.acknowledged()
            for pending in done:
                self.acks.add(pending.intended, pending.lines)
            if failed:
                self._lose(i, failed)
        return self.acks.take()

    def close(self, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        acks = self.poll()
        while any(c is not None and c.pending for c in self.connections) and time.monotonic() < deadline:
            time.sleep(CLOSE_SLICE)
            acks += self.poll()
        for i, connection in enumerate(self.connections):
            if connection is not None:
                for pending in connection.take_pending():
                    self.acks.add(pending.intended, 0, pending.lines,
                                  f"in doubt: not acknowledged by the server within {timeout:g} s")
                connection.close()
        return acks + self.acks.take()


class DatagramSink(Synchronous):
    """UDP, one datagram per line."""

    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def open(self) -> None:
        try:
            self.sock.connect((self.options.host, self.options.port))
        except OSError as error:
            raise UserError(f"syslog: cannot send to {self.options.target}: {reason_of(error)}") from None

    def send(self, data: bytes, lines: int, intended: float) -> None:
        prefix = header(self.options.envelope, intended, self.options.hostname, APP_NAME)
        failed: Counter[str] = Counter()
        send = self.sock.send
        for message in messages(enveloped(data, prefix)):
            if len(message) > MAX_DATAGRAM:
                failed[f"datagram of more than {MAX_DATAGRAM:,} bytes (UDP's largest)"] += 1
                continue
            try:
                send(message)
            except OSError as error:
                failed[reason_of(error)] += 1
        self.acks.add(intended, lines - sum(failed.values()))
        for reason, count in failed.items():
            self.acks.add(intended, 0, count, reason)

    def finish(self) -> None:
        self.sock.close()


def create(options: Options, producer: int, producers: int) -> StreamSink | DatagramSink:
    if options.scheme == "udp":
        return DatagramSink(options)
    share = len(range(producer, options.connections, producers))
    return StreamSink(options, max(1, share))
