"""Syslog (RFC 5424) lines carrying an access event:

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ELEMENT] MSG

    <190>1 2026-01-01T00:00:00.000511Z web-03 nginx 1911 access [access@32473
    ip="73.203.52.161" ua="..." referer="-" duration="0.001" status="200"
    bytes="51929" method="GET" url="/images/x.jpg" proto="HTTP/2.0"]
    GET /images/x.jpg HTTP/2.0 200 51929

(one line). Facility local7; severity info for 1xx-3xx, warning for 4xx,
error for 5xx. TIMESTAMP has microseconds and the chosen zone's offset
(Z for UTC). The SD-ID uses 32473, the enterprise number RFC 5612 reserves
for documentation. The MSG restates the request line, status and size, so
that a reader without structured-data support still sees the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from generators import baddata as bad
from generators.apache import IP_TYPOS, METHOD_TYPOS, PROTOCOL_TYPOS, STATUS_TYPOS
from generators.format import (MILLIS, Format, Pools, durations, iso_offset, iso_second, numbers, per_distinct,
                               statuses, text)
from generators.world import World

FACILITY = 23  # local7
HOSTS = tuple((f"web-{i:02d}", 1800 + 37 * i) for i in range(1, 7))


def severity(status: int) -> int:
    return 3 if status >= 500 else 4 if status >= 400 else 6


def sd_value(values: Iterable[str]) -> list[bytes]:
    """PARAM-VALUE text: '"', '\\' and ']' escaped with a backslash (RFC 5424, 6.3.3)."""
    return per_distinct(lambda v: v.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]").encode(), values)


class Syslog(Format):
    name = "syslog"
    summary = "syslog RFC 5424 with an access event in structured data"
    template = (
        "<{pri}>1 {time}.{milli}{micro}{offset} {host} nginx {procid} access [access@32473 "
        'ip="{ip}" ua="{agent}" referer="{referer}" duration="{duration}" status="{status}" bytes="{size}" '
        'method="{method}" url="{url}" proto="{protocol}"] {msg_request} {msg_response}')
    corruptions = {
        "bad_ip": bad.replace("ip", IP_TYPOS),
        "bad_method": bad.replace("method", METHOD_TYPOS),
        "bad_protocol": bad.replace("protocol", PROTOCOL_TYPOS),
        "bad_status": bad.replace("status", STATUS_TYPOS),
        "junk": bad.junk("ip", "status", "size", "time", "pri"),
        "truncated": bad.truncated,
        "invalid_utf8": bad.invalid_utf8,
        "missing_field": bad.missing("host", "procid", "ip", "status", "duration"),
        "time_backwards": bad.backwards,
        "oversized": bad.oversized("url"),
    }

    def pools(self, world: World) -> Pools:
        targets = [p + q for p, q in zip(world.request_paths, world.request_queries)]
        sizes = numbers(world.sizes)
        codes = statuses(world)
        return {
            "pri": ("response", per_distinct(lambda c: b"%d" % (FACILITY * 8 + severity(int(c))), codes)),
            "milli": ("milli", MILLIS),
            "micro": ("micro", MILLIS),
            "host": ("host", [h.encode() for h, _ in HOSTS]),
            "procid": ("host", [b"%d" % pid for _, pid in HOSTS]),
            "ip": ("client", text(world.client_ips)),
            "agent": ("client", sd_value(world.client_agents)),
            "referer": ("referer", sd_value(world.referers)),
            "duration": ("duration", durations(world)),
            "status": ("response", codes),
            "size": ("response", sizes),
            "method": ("request", text(world.request_methods)),
            "url": ("request", sd_value(targets)),
            "protocol": ("request", text(world.request_protocols)),
            "msg_request": ("request", text(f"{m} {t} {p}" for m, t, p in
                                            zip(world.request_methods, targets, world.request_protocols))),
            "msg_response": ("response", [c + b" " + s for c, s in zip(codes, sizes)]),
        }

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        return {"time": iso_second(moment), "offset": iso_offset(moment)}
