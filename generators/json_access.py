"""JSON access log with Elastic Common Schema (ECS) field names, one object
per line, nested objects (as ECS loggers write them), keys in this order:

    {"@timestamp":"2026-01-01T00:00:00.000Z","ecs":{"version":"8.11.0"},
     "source":{"ip":"..."},"user_agent":{"original":"..."},
     "url":{"original":"/search?q=x","path":"/search","query":"q=x","domain":"shop.example.com"},
     "http":{"version":"2.0","request":{"method":"GET","referrer":"..."},
             "response":{"status_code":200,"body":{"bytes":1234}}},
     "event":{"kind":"event","category":["web"],"type":["access"],"duration":4000000}}

@timestamp has milliseconds and the chosen zone's offset (Z for UTC);
url.query and http.request.referrer are left out when the request has none;
event.duration is in nanoseconds.
"""

from __future__ import annotations

from datetime import datetime

from generators import baddata as bad
from generators.apache import IP_TYPOS, METHOD_TYPOS, STATUS_TYPOS
from generators.format import (MILLIS, Format, Pools, iso_offset, iso_second, json_inner, numbers, per_distinct,
                               statuses, text)
from generators.world import World

VERSION_TYPOS = (b"9.9", b"1", b"HTTP/1.1", b"1.1.1", b"", b"2.O")


def optional(key: str, values: list[str], absent: str) -> list[bytes]:
    """`,"key":"value"`, or nothing where the value is `absent`."""
    encoded = json_inner(values)
    return [b"" if v == absent else b',"%s":"%s"' % (key.encode(), e) for v, e in zip(values, encoded)]


class JsonAccess(Format):
    name = "json"
    summary = "JSON access log with ECS field names"
    template = (
        '{"@timestamp":"{time}.{milli}{offset}","ecs":{"version":"8.11.0"},'
        '"source":{"ip":"{ip}"},"user_agent":{"original":"{agent}"},'
        '"url":{"original":"{target}","path":"{path}"{query},"domain":"{host}"},'
        '"http":{"version":"{version}","request":{"method":"{method}"{referrer}},'
        '"response":{"status_code":{status},"body":{"bytes":{size}}}},'
        '"event":{"kind":"event","category":["web"],"type":["access"],"duration":{duration}}}')
    corruptions = {
        "bad_ip": bad.replace("ip", IP_TYPOS),
        "bad_method": bad.replace("method", METHOD_TYPOS),
        "bad_protocol": bad.replace("version", VERSION_TYPOS),
        "bad_status": bad.replace("status", STATUS_TYPOS),
        # Only fields inside quotes: junk next to a bare number could be JSON whitespace.
        "junk": bad.junk("ip", "time", "method"),
        "truncated": bad.truncated,
        "invalid_utf8": bad.invalid_utf8,
        "missing_field": bad.missing("ip", "path", "status", "size", "duration"),
        "time_backwards": bad.backwards,
        "oversized": bad.oversized("target"),
    }

    def pools(self, world: World) -> Pools:
        return {
            "milli": ("milli", MILLIS),
            "ip": ("client", text(world.client_ips)),
            "agent": ("client", json_inner(world.client_agents)),
            "target": ("request", json_inner(p + q for p, q in zip(world.request_paths, world.request_queries))),
            "path": ("request", json_inner(world.request_paths)),
            "query": ("request", optional("query", [q[1:] for q in world.request_queries], "")),
            "host": ("request", json_inner(world.request_hosts)),
            "version": ("request", text(p.removeprefix("HTTP/") for p in world.request_protocols)),
            "method": ("request", text(world.request_methods)),
            "referrer": ("referer", optional("referrer", world.referers, "-")),
            "status": ("response", statuses(world)),
            "size": ("response", numbers(world.sizes)),
            "duration": ("duration", per_distinct(lambda d: b"%d" % round(d * 1e9), world.durations)),
        }

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        return {"time": iso_second(moment), "offset": iso_offset(moment)}
