"""Apache combined log format (LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"")."""

from __future__ import annotations

from datetime import datetime

from generators import baddata as bad
from generators.format import Format, Pools, clf_time, dash_zero, statuses, text
from generators.world import World

METHOD_TYPOS = (b"FOO", b"GETT", b"BREW", b"get", b"P0ST", b"DELET")
PROTOCOL_TYPOS = (b"HTTP/9.9", b"HTTP/1", b"HTPT/1.1", b"http/1.1", b"HTTP/1.1.1", b"HTTP/")
STATUS_TYPOS = (b"999", b"600", b"42", b"1000", b"099", b"2OO")
IP_TYPOS = (b"300.12.1.4", b"10.0.0", b"1.2.3.4.5", b"256.256.256.256", b"192.168.1.", b"::ffff:zz")


def combined_pools(world: World) -> dict:
    """The fields of Apache's common and combined formats."""
    return {
        "ip": ("client", text(world.client_ips)),
        "ident": ("client", [b"-"] * len(world.client_ips)),
        "user": ("client", text(world.client_users)),
        "method": ("request", text(world.request_methods)),
        "target": ("request", text(p + q for p, q in zip(world.request_paths, world.request_queries))),
        "protocol": ("request", text(world.request_protocols)),
        "status": ("response", statuses(world)),
        "size": ("response", dash_zero(world.sizes)),
        "referer": ("referer", text(world.referers)),
        "agent": ("client", text(world.client_agents)),
    }


CORRUPTIONS = {
    "bad_ip": bad.replace("ip", IP_TYPOS),
    "bad_method": bad.replace("method", METHOD_TYPOS),
    "bad_protocol": bad.replace("protocol", PROTOCOL_TYPOS),
    "bad_status": bad.replace("status", STATUS_TYPOS),
    "junk": bad.junk("ip", "status", "size", "time"),
    "truncated": bad.truncated,
    "invalid_utf8": bad.invalid_utf8,
    "missing_field": bad.missing("ident", "user", "status", "size"),
    "time_backwards": bad.backwards,
    "oversized": bad.oversized("target"),
}


class ApacheCombined(Format):
    name = "apache"
    summary = "Apache combined log format"
    template = '{ip} {ident} {user} [{time}] "{method} {target} {protocol}" {status} {size} "{referer}" "{agent}"'
    corruptions = CORRUPTIONS

    def pools(self, world: World) -> Pools:
        return combined_pools(world)

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        return {"time": clf_time(moment)}
