"""Publishing MQTT 3.1.1 fast, on the socket a paho client connected.

paho spends about 100 µs of Python per QoS 1 message here (an object, a
lock and a send() per message, a decode per PUBACK); mosquitto_pub manages
70,000 messages/s on the same machine. So once paho has connected (CONNECT,
CONNACK, credentials), the publish path is this: a send's PUBLISH packets
built into one buffer and written as the socket takes them, and the
broker's answers read in bulk: PUBACK (QoS 1), PUBREC then PUBCOMP (QoS 2,
with our PUBREL between), PINGRESP. paho never reads that socket again.
"""

from __future__ import annotations

import functools
import select
import struct
import time

PUBACK, PUBREC, PUBCOMP, PINGRESP = 0x40, 0x50, 0x70, 0xD0
PUBREL = 0x62
PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"
SHORT = struct.Struct(">H")


class Closed(Exception):
    """The connection is gone; the message says why."""


@functools.lru_cache(maxsize=16384)
def remaining_length(n: int) -> bytes:
    """MQTT's variable-length integer (cached: lines come in a few hundred lengths)."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Wire:
    def __init__(self, sock, topic: str, qos: int, keepalive: float) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.qos = qos
        self.first = bytes([0x30 | qos << 1])
        self.topic = SHORT.pack(len(topic.encode())) + topic.encode()
        self.keepalive = keepalive
        self.out = bytearray()
        self.inbox = bytearray()
        self.next_id = 0
        self.last_write = time.monotonic()
        self.written = 0  # bytes handed to the kernel so far
        self.queued = 0  # bytes ever put in `out`

    def publish(self, values: list[bytes]) -> int:
        """Queue PUBLISH packets for `values`; returns the byte count after
        which they are all written (compare with `written`)."""
        first, topic, qos = self.first, self.topic, self.qos
        pieces = []
        ident = self.next_id
        for value in values:
            if qos:
                ident = ident % 65535 + 1  # 1..65535: 0 is not a packet id
                pieces += (first, remaining_length(len(topic) + 2 + len(value)), topic, SHORT.pack(ident), value)
            else:
                pieces += (first, remaining_length(len(topic) + len(value)), topic, value)
        self.next_id = ident
        data = b"".join(pieces)
        self.out += data
        self.queued += len(data)
        return self.queued

    def serve(self, timeout: float) -> int:
        """Write what the socket takes, read what came; wait at most
        `timeout` for either. Returns how many messages the broker finished
        acknowledging (PUBACK, or PUBCOMP at QoS 2). Raises Closed."""
        if time.monotonic() - self.last_write > self.keepalive / 2 and not self.out:
            self.out += PINGREQ
            self.queued += len(PINGREQ)
        readable, writable, _ = select.select([self.sock], [self.sock] if self.out else [], [], max(0.0, timeout))
        if writable:
            self._write()
        return self._read() if readable else 0

    def _write(self) -> None:
        try:
            sent = self.sock.send(self.out)
        except BlockingIOError:
            return
        except OSError as error:
            raise Closed(f"connection lost: {error.strerror or error}") from None
        del self.out[:sent]
        self.written += sent
        self.last_write = time.monotonic()

    def _read(self) -> int:
        data = _receive(self.sock, 1 << 16)
        if data is None:
            return 0
        inbox = self.inbox
        inbox += data
        done, at = 0, 0
        # Every packet a broker sends a publisher is four bytes or two (PINGRESP).
        while at + 2 <= len(inbox):
            kind = inbox[at] & 0xF0
            size = 2 + inbox[at + 1]
            if at + size > len(inbox):
                break
            if kind == PUBACK or kind == PUBCOMP:
                done += 1
            elif kind == PUBREC:
                self.out += bytes((PUBREL, 2)) + inbox[at + 2:at + 4]
                self.queued += 4
            elif kind != PINGRESP:
                raise Closed(f"unexpected packet type {kind >> 4} from the broker")
            at += size
        del inbox[:at]
        return done

    def close(self, timeout: float) -> None:
        """Write what is left and DISCONNECT, within `timeout`."""
        self.out += DISCONNECT
        deadline = time.monotonic() + timeout
        try:
            while self.out and time.monotonic() < deadline:
                if select.select([], [self.sock], [], max(0.0, deadline - time.monotonic()))[1]:
                    self._write()
        except Closed:
            pass
        self.sock.close()


PUBLISH, PUBREL_IN = 0x30, 0x60


class Reader:
    """The --verify subscriber's socket, once paho has subscribed on it:
    every PUBLISH's payload goes to `arrived`, answered as its QoS wants
    (PUBACK; PUBREC, then PUBCOMP for the broker's PUBREL). paho reads one
    packet per pass of its loop, about 2,000 messages/s here; this reads
    whatever came."""

    def __init__(self, sock, arrived, keepalive: float) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.arrived = arrived  # called with a list of payloads
        self.keepalive = keepalive
        self.inbox = bytearray()
        self.out = bytearray()
        self.last_write = time.monotonic()

    def serve(self, timeout: float) -> None:
        """One pass: answer, read, hand payloads over. Raises Closed."""
        if time.monotonic() - self.last_write > self.keepalive / 2 and not self.out:
            self.out += PINGREQ
        readable, writable, _ = select.select([self.sock], [self.sock] if self.out else [], [], timeout)
        if writable:
            try:
                sent = self.sock.send(self.out)
            except BlockingIOError:
                sent = 0
            except OSError as error:
                raise Closed(f"connection lost: {error.strerror or error}") from None
            del self.out[:sent]
            self.last_write = time.monotonic()
        if readable:
            self._read()

    def _read(self) -> None:
        data = _receive(self.sock, 1 << 20)
        if data is None:
            return
        inbox = self.inbox
        inbox += data
        payloads, at = [], 0
        while True:
            size, start = _length(inbox, at + 1)
            if start is None or start + size > len(inbox):
                break
            kind, qos = inbox[at] & 0xF0, (inbox[at] >> 1) & 3
            if kind == PUBLISH:
                body = start + 2 + SHORT.unpack_from(inbox, start)[0]
                if qos:
                    ident = bytes(inbox[body:body + 2])
                    self.out += (b"\x40\x02" if qos == 1 else b"\x50\x02") + ident
                    body += 2
                payloads.append(bytes(inbox[body:start + size]))
            elif kind == PUBREL_IN:
                self.out += b"\x70\x02" + inbox[start:start + 2]
            at = start + size
        del inbox[:at]
        if payloads:
            self.arrived(payloads)


def _length(data: bytearray, at: int) -> tuple[int, int | None]:
    """(remaining length, where the packet's rest starts), or (0, None) if not all here yet."""
    value, shift = 0, 0
    while at < len(data):
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7
    return 0, None


def _receive(sock, most: int) -> bytes | None:
    """What the socket holds (up to `most` bytes), None if nothing yet;
    Closed if the connection went."""
    try:
        data = sock.recv(most)
    except BlockingIOError:
        return None
    except OSError as error:
        raise Closed(f"connection lost: {error.strerror or error}") from None
    if not data:
        raise Closed("connection closed by the broker")
    return data
