"""One TCP or TLS connection to a syslog server, and what it knows of the
fate of the bytes written to it.

Syslog over TCP has no acknowledgement of its own. The nearest honest one is
the peer's TCP: Linux's TCP_INFO says how many bytes the server's kernel has
acknowledged (tcpi_bytes_acked), so a send counts as delivered once every
byte of it was acknowledged there. Bytes written to a connection that then
fails (reset, closed, timed out) before they were acknowledged are in
doubt: nobody can tell whether the server read them.

TLS runs over memory BIOs, so that the bytes on the socket are ours to count:
every TLS record is written by this module, and a send's end is a position
in the raw stream, comparable with what the peer acknowledged.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections import deque
from dataclasses import dataclass

SEND_TIMEOUT = 30.0  # a server that takes nothing for this long has failed the connection
TCP_INFO_BYTES = 136
BYTES_ACKED = slice(120, 128)  # struct tcp_info: __u64 tcpi_bytes_acked (Linux 4.2+)
ESTABLISHED = 1
READ_BYTES = 1 << 16


class Broken(Exception):
    """The connection failed; `written` bytes of the send under way reached the socket."""

    def __init__(self, reason: str, written: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.written = reason, written


@dataclass(frozen=True)
class Pending:
    end: int  # position in the raw stream just past this send
    lines: int
    intended: float


def reason_of(error: BaseException) -> str:
    """ECONNRESET, ECONNREFUSED, timed out, or the TLS library's words."""
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or error}"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(error, OSError) and error.errno:
        return errno.errorcode.get(error.errno, str(error))
    return str(error) or type(error).__name__


def tls_context(ca: str | None, insecure: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Connection:
    """Connected on creation; raises Broken when it cannot be."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, timeout: float = SEND_TIMEOUT) -> None:
        self.pending: deque[Pending] = deque()
        self.written = 0
        self.tls = None
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as error:
            raise Broken(reason_of(error)) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            self._handshake(tls, host)

    def _handshake(self, context: ssl.SSLContext, host: str) -> None:
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = self._recv()
                self.incoming.write(data)
            except ssl.SSLError as error:
                self.close()
                raise Broken(reason_of(error)) from None
        self._flush()

    def _recv(self) -> bytes:
        try:
            data = self.sock.recv(READ_BYTES)
        except OSError as error:
            self.close()
            raise Broken(reason_of(error)) from None
        if not data:
            self.close()
            raise Broken("closed by the server during the TLS handshake")
        return data

    def _flush(self) -> int:
        raw = self.outgoing.read()
        self._sendall(raw)
        return len(raw)

    def _sendall(self, raw: bytes | bytearray | memoryview) -> None:
        view, sent = memoryview(raw), 0
        try:
            while sent < len(view):
                sent += self.sock.send(view[sent:])
        except OSError as error:
            self.written += sent
            raise Broken(reason_of(error), sent) from None
        self.written += sent

    def write(self, frames: bytes | bytearray | memoryview, lines: int, intended: float) -> None:
        """Write a send's frames; its lines are pending until acknowledged."""
        if self.tls is None:
            self._sendall(frames)
        else:
            self.tls.write(frames)
            self._flush()
        self.pending.append(Pending(self.written, lines, intended))

    def acknowledged(self) -> tuple[list[Pending], str]:
        """The sends the server's TCP has acknowledged since the last call,
        and why the connection failed if it has ("" if not): what is still
        pending is then in doubt."""
        try:
            info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_BYTES)
        except OSError as error:
            return [], reason_of(error)
        acked = max(0, int.from_bytes(info[BYTES_ACKED], "little") - 1)  # the SYN counts one
        done = []
        while self.pending and self.pending[0].end <= acked:
            done.append(self.pending.popleft())
        if info[0] == ESTABLISHED or not self.pending:
            return done, ""
        error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return done, errno.errorcode.get(error, "closed by the server") if error else "closed by the server"

    def take_pending(self) -> list[Pending]:
        taken, self.pending = list(self.pending), deque()
        return taken

    def close(self) -> None:
        """With TLS, say close_notify first: a server logs a connection cut without it as an error."""
        try:
            if self.tls is not None:
                try:
                    self.tls.unwrap()
                except ssl.SSLWantReadError:
                    pass
                self.sock.sendall(self.outgoing.read())
        except (OSError, ssl.SSLError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass
