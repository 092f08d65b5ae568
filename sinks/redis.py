"""Redis Streams: each line (without its newline) is one stream entry,
`XADD KEY [MAXLEN ~ N] * line <the line>`, pipelined: one send() writes all
its commands at once, then reads their replies.

A line is delivered when its reply is an entry ID; an error reply (OOM,
WRONGTYPE, ...) fails that line with the error's text. When the connection
breaks or no reply comes within --timeout, the lines without a reply count
failed ("no reply: ..."; the server may have stored some of them) and the
next send connects again.

The hot path speaks RESP on a plain socket: packing every command with one
bytes formatting and counting replies by their line ends runs in C, about
twice the rate of the redis client's parser, which reads one reply per
Python call. The redis client does the rest (the check before the run,
--verify, --e2e: sinks/redis_read.py).

The password comes from --url (redis://:PASSWORD@host) or REDIS_PASSWORD,
and is never printed: errors name host:port only.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from harness.errors import UserError
from harness.options import number
from sinks.base import Synchronous, split_lines
from sinks.redis_read import CONNECT_TIMEOUT, FIELD, STAMP, checked

NAME = "redis"
HELP = "append each line as an entry of a Redis stream (XADD, pipelined)"

DEFAULT_URL = "redis://127.0.0.1:6379"
READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    db: int
    stream: str
    maxlen: str  # "" (no trimming), "~N" (about N entries) or "=N" (exactly N)
    timeout: float
    username: str = ""
    password: str = field(default="", repr=False)
    verify: bool = False
    e2e: bool = False

    @property
    def where(self) -> str:
        return f"Redis at {self.host}:{self.port}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL,
                        help=f"redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (default {DEFAULT_URL}); "
                             "the password may come from $REDIS_PASSWORD instead, and is never printed")
    parser.add_argument("--stream", default="logstorm", metavar="KEY", help="the stream's key (default logstorm)")
    parser.add_argument("--maxlen", type=maxlen, metavar="~N|N",
                        help="trim the stream to about (~N) or exactly (N) N entries as it grows "
                             "(default: no trimming; --verify needs every entry kept)")
    parser.add_argument("--timeout", type=number(float, 0, low_open=True), default=10.0, metavar="SECONDS",
                        help="lines without a reply within this time count as failed (default 10)")
    parser.add_argument("--verify", action="store_true",
                        help="after the run, read the stream back (XRANGE) and check every delivered line "
                             "is there exactly once")
    parser.add_argument("--e2e", action="store_true",
                        help="measure end-to-end latency with a reader (XREAD) while the run produces")


def maxlen(text: str) -> str:
    """argparse type for --maxlen: ~N or N, N ≥ 1."""
    digits = text.removeprefix("~")
    if not digits.isdigit() or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not ~N or N (N from 1)")
    return ("~" if text.startswith("~") else "=") + str(int(digits))


def options(args: argparse.Namespace) -> Options:
    url = urlsplit(args.url)
    if url.scheme != "redis":
        raise UserError(f"--url must start with redis:// (TLS, rediss://, is not supported): "
                        f"{url.scheme or 'no scheme'} given")
    try:
        port = url.port or 6379
    except ValueError:
        raise UserError("--url has a bad port: it must be 1-65535") from None
    db = url.path.strip("/") or "0"
    if not db.isdigit():
        raise UserError(f"--url names database {db!r}: it must be a number")
    if not args.stream:
        raise UserError("--stream must not be empty")
    password = unquote(url.password) if url.password else os.environ.get("REDIS_PASSWORD", "")
    return Options(host=url.hostname or "127.0.0.1", port=port, db=int(db), stream=args.stream, maxlen=args.maxlen or "",
                   timeout=args.timeout, username=unquote(url.username or ""), password=password,
                   verify=args.verify, e2e=args.e2e)


def check(options: Options) -> None:
    """Reach the server (one line within 15 s if we cannot), log in, and make
    sure the key is a stream or free."""
    checked(options)


def create(options: Options, producer: int, producers: int) -> RedisSink:
    return RedisSink(options)


def command(*words: bytes) -> bytes:
    """One RESP command."""
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%b\r\n" % (len(word), word) for word in words)


class NoReply(Exception):
    """The connection broke or the server went quiet: the rest of the replies will not come."""


class RedisSink(Synchronous):
    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options
        self.longest_send = CONNECT_TIMEOUT + options.timeout
        self.sock: socket.socket | None = None
        self.pending = b""  # received bytes past the last whole reply read
        trim = (b"MAXLEN", options.maxlen[:1].encode(), options.maxlen[1:].encode()) if options.maxlen else ()
        self.head = (b"*%d\r\n" % (5 + len(trim) + 2 * options.e2e)
                     + b"".join(b"$%d\r\n%b\r\n" % (len(w), w) for w in (b"XADD", options.stream.encode(), *trim, b"*")))
        self.fingerprint_sum = None
        if options.verify:
            from sinks.kafka_verify import fingerprint_sum

            self.fingerprint_sum = fingerprint_sum
        self.count = 0
        self.sum = 0

    def send(self, data: bytes, lines: int, intended: float) -> None:
        values = split_lines(data, lines)
        head = self.head
        if self.options.e2e:
            stamp = b"%d" % int(intended * 1000)
            head += b"$%d\r\n%b\r\n" % (len(STAMP), STAMP) + b"$%d\r\n%b\r\n" % (len(stamp), stamp)
        head += b"$%d\r\n%b\r\n" % (len(FIELD), FIELD)
        payload = b"".join([b"%b$%d\r\n%b\r\n" % (head, len(value), value) for value in values])
        try:
            self._socket()
        except OSError as error:
            self.acks.add(intended, 0, len(values), f"cannot connect to {self.options.where}: {_reason(error, 0)}")
            return
        except NoReply as error:
            self.acks.add(intended, 0, len(values), str(error))
            return
        failed, replied, cause = self._pipeline(payload, len(values))
        if replied > sum(failed.values()):
            self.acks.add(intended, replied - sum(failed.values()))
        for reason, count in failed.items():
            self.acks.add(intended, 0, count, reason)
        if len(values) > replied:
            self.acks.add(intended, 0, len(values) - replied, f"no reply: {cause}")
        if self.fingerprint_sum is not None:
            self._fingerprint(values, replied, failed)

    def _pipeline(self, payload: bytes, commands: int) -> tuple[Counter, int, str]:
        """Write the commands, read their replies: (failures by error text,
        replies read, why the rest never came)."""
        failed: Counter[str] = Counter()
        replied = 0
        deadline = time.monotonic() + self.options.timeout
        try:
            sock = self._socket()
            sock.settimeout(self.options.timeout)
            sock.sendall(payload)
            while replied < commands:
                replied += self._read_replies(commands - replied, failed, deadline)
            return failed, replied, ""
        except (OSError, NoReply) as error:
            self._disconnect()
            return failed, replied, _reason(error, self.options.timeout)

    def _read_replies(self, wanted: int, failed: Counter, deadline: float) -> int:
        """Read until `wanted` replies have come or an error reply is among
        them; returns how many whole replies were read. An entry ID reply
        is two lines ($len, the ID), an error reply one (-TEXT): while no
        line starts with "-", counting line ends (in C) counts the replies."""
        chunks = [self.pending]
        lines = self.pending.count(b"\r\n")
        error = self.pending.startswith(b"-") or b"\n-" in self.pending
        while lines < 2 * wanted and not error:
            chunk = self._recv(deadline)
            seam = chunks[-1][-1:] + chunk  # a line end split between two reads
            lines += seam.count(b"\r\n")
            error = b"\n-" in seam or (not chunks[-1] and chunk.startswith(b"-"))
            chunks.append(chunk)
        if not error:
            self.pending = b""
            return wanted
        return self._read_mixed(b"".join(chunks), wanted, failed)

    def _read_mixed(self, buf: bytes, wanted: int, failed: Counter) -> int:
        at, count = 0, 0
        while count < wanted:
            end = buf.find(b"\r\n", at)
            if end < 0:
                break
            if buf[at:at + 1] == b"-":
                failed[buf[at + 1:end].decode(errors="replace")[:100]] += 1
            elif buf[at:at + 1] == b"+":  # +OK of AUTH or SELECT
                pass
            elif buf[at:at + 1] == b"$":
                end = buf.find(b"\r\n", end + 2)
                if end < 0:
                    break
            else:
                raise NoReply(f"unexpected reply {buf[at:end][:40]!r}")
            at, count = end + 2, count + 1
        self.pending = buf[at:]
        return count

    def _recv(self, deadline: float) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        chunk = self.sock.recv(READ_CHUNK)
        if not chunk:
            raise NoReply("the server closed the connection")
        return chunk

    def _socket(self) -> socket.socket:
        if self.sock is None:
            sock = socket.create_connection((self.options.host, self.options.port), timeout=CONNECT_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock, self.pending = sock, b""
            try:
                self._log_in()
            except BaseException:
                self._disconnect()
                raise
        return self.sock

    def _log_in(self) -> None:
        """AUTH and SELECT, as check() did with the redis client."""
        options = self.options
        hello = []
        if options.password:
            hello.append(command(b"AUTH", *([options.username.encode()] if options.username else []),
                                 options.password.encode()))
        if options.db:
            hello.append(command(b"SELECT", b"%d" % options.db))
        if hello:
            self.sock.sendall(b"".join(hello))
            failed: Counter[str] = Counter()
            deadline = time.monotonic() + CONNECT_TIMEOUT
            done = 0
            while done < len(hello):
                done += self._read_mixed(self.pending + self._recv(deadline), len(hello) - done, failed)
            if failed:
                raise NoReply(f"log-in refused: {next(iter(failed))}")

    def _disconnect(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock, self.pending = None, b""

    def _fingerprint(self, values: list[bytes], replied: int, failed: Counter) -> None:
        """Count and hash the lines the server holds. With error replies it
        is not known which lines they were: the run's verify then fails,
        as it should when a line was refused."""
        delivered = replied - sum(failed.values())
        self.count += delivered
        self.sum += self.fingerprint_sum(values[:delivered])

    def finish(self) -> None:
        self._disconnect()

    def fingerprint(self) -> tuple[int, int]:
        """(count, 64-bit sum of line hashes) of the delivered lines; --verify only."""
        return self.count, self.sum % 2**64


def _reason(error: Exception, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"none within {timeout:g} s (the server may have stored some)" if timeout else "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError):
        return f"connection lost ({error.strerror or error}; the server may have stored some)"
    return str(error)


def after_run(options: Options, delivered: int, fingerprints: list, started: float) -> tuple[bool, str] | None:
    """--verify: read the stream back from this run's start (entry IDs are
    the server's milliseconds) and check every delivered line is there once."""
    if not options.verify:
        return None
    from sinks.redis_read import verify

    prints = [f for f in fingerprints if f]
    return verify(options, sum(c for c, _ in prints), sum(s for _, s in prints), since=started)


def observe(options: Options, stop, record, since: float) -> None:
    """--e2e: read the stream while the run writes; latency = arrival -
    the entry's intended send time."""
    from sinks.redis_read import e2e_reader

    e2e_reader(options, stop, record, since)
