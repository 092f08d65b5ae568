"""What goes on the wire for the syslog sink, as pure functions of the lines:
the envelope (a syslog header in front of each line, for formats that are
not syslog already) and the framing of RFC 6587 for stream transports.

    <134>1 2026-12-01T23:50:00.123Z host logstorm - - - LINE     rfc5424
    <134>Dec  1 23:50:00 host logstorm: LINE                      rfc3164
    LINE                                                          none

    octet-counting: "LEN SP MESSAGE" with no newline (RFC 6587 3.4.1)
    lf:             "MESSAGE LF" (RFC 6587 3.4.2, non-transparent framing)

A send's lines share one intended time, so they share one header: the
envelope is one bytes.replace, not a loop over lines.
"""

from __future__ import annotations

import time

ENVELOPES = ("rfc5424", "rfc3164", "none")
FRAMINGS = ("octet-counting", "lf")
PRI = b"<134>"  # facility local0 (16), severity informational (6)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def header(envelope: str, when: float, host: str, app: str) -> bytes:
    """The syslog header put in front of every line of a send stamped `when`."""
    if envelope == "none":
        return b""
    moment = time.gmtime(when)
    if envelope == "rfc5424":
        millis = int(when * 1000) % 1000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{millis:03d}Z"
        return PRI + f"1 {stamp} {host} {app} - - - ".encode()
    stamp = f"{MONTHS[moment.tm_mon - 1]} {moment.tm_mday:2d} {time.strftime('%H:%M:%S', moment)}"
    return PRI + f"{stamp} {host} {app}: ".encode()


def enveloped(data: bytes, prefix: bytes) -> bytes:
    """Newline-terminated `data` with `prefix` in front of every line."""
    if not prefix:
        return data
    return prefix + data[:-1].replace(b"\n", b"\n" + prefix) + b"\n"


def framed(data: bytes, framing: str) -> bytes:
    """Newline-terminated messages, framed for a TCP or TLS stream."""
    if framing == "lf":
        return data
    return b"".join([b"%d %s" % (len(message), message) for message in data[:-1].split(b"\n")])


def messages(data: bytes) -> list[bytes]:
    """Newline-terminated messages, one per datagram (no newline: UDP frames them)."""
    return data[:-1].split(b"\n")


def strip_envelope(line: bytes, envelope: str) -> bytes:
    """The line as it was before header() was put in front (for a reader
    of the far end: a shipper that writes the message as it received it)."""
    if envelope == "rfc5424":
        return line.split(b" ", 7)[-1]
    if envelope == "rfc3164":
        return line.split(b": ", 1)[-1]
    return line
