"""Amazon CloudFront standard access log: the 33 tab-separated W3C fields in
the documented order (date time x-edge-location sc-bytes c-ip cs-method
cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query
cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol
cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher
x-edge-response-result-type cs-protocol-version fle-status
fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type
sc-content-type sc-content-len sc-range-start sc-range-end), one record per
line. Date and time are UTC whatever the chosen time zone; the user agent is
URL-encoded (no spaces); empty values are "-". Cookie logging is off.

Each client is served by one edge location. To keep a line to few pieces
(see generators/template.py), the fields from x-edge-result-type to
x-edge-detailed-result-type that no other entity pins down are drawn with
the duration (whose pool is per request class): the three result types (the
class's mix: mostly hits for static assets, misses for pages and API calls,
errors as often as the class fails, so not always matching the line's own
status), request size, TLS version and cipher, HTTP version, client port
and time to first byte. The request id is the line's own (unique per
request, see generators/ids.py).

Real files begin with two header lines (#Version, #Fields): `preamble`
holds them, for the sinks that open files or objects to write them once at
the top of each (a stream such as Kafka carries records only).
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

import numpy as np

from generators import baddata as bad
from generators import ids
from generators.apache import IP_TYPOS, METHOD_TYPOS, PROTOCOL_TYPOS, STATUS_TYPOS
from generators.format import (Format, Pools, dash_zero, duration_classes, numbers, per_distinct, picked, seconds,
                               statuses, text)
from generators.world import CLASSES, World

DISTRIBUTION = "d3kx7q2mz9f0ab.cloudfront.net"
EDGES = ("IAD89-C1", "IAD12-P3", "JFK50-P2", "ORD58-P4", "DFW56-P1", "SFO53-P7", "SEA19-C2", "LAX3-C4", "YUL62-C1",
         "GRU3-P1", "LHR61-P5", "LHR50-C1", "FRA56-P5", "FRA6-C1", "CDG52-P1", "AMS1-C1", "MAD53-C2", "ARN54-C1",
         "WAW50-C1", "HEL50-C2", "NRT57-P2", "ICN54-C2", "SIN52-C2", "BOM78-P1", "SYD62-P1", "JNB50-C1")
TLS = (("TLSv1.3", "TLS_AES_128_GCM_SHA256", 0.55), ("TLSv1.3", "TLS_AES_256_GCM_SHA384", 0.15),
       ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", 0.08), ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 0.20),
       ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305", 0.02))
CONTENT_TYPES = {"js": "application/javascript", "css": "text/css", "woff2": "font/woff2", "svg": "image/svg+xml",
                 "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "php": "text/html", "ico": "image/x-icon"}
# Characters a user agent keeps unencoded in the log (CloudFront encodes spaces and the like).
UA_SAFE = "/;:(),.+=~!*'&?@_-"

PROTOCOL_VERSION_TYPOS = PROTOCOL_TYPOS + (b"HTTP/4.0",)
FIELDS = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) "
          "cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken "
          "x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
          "fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
          "sc-range-start sc-range-end")


def content_types(world: World) -> list[bytes]:
    """The content type of each request: JSON from the API, else by the file
    extension of its path (HTML without one)."""
    _, _, last = np.strings.rpartition(np.array(world.request_paths), "/")
    _, dot, ext = np.strings.rpartition(last, ".")
    exts, which = np.unique(np.where(dot == ".", ext, ""), return_inverse=True)
    types = [CONTENT_TYPES.get(e, "text/html").encode() for e in exts.tolist()] + [b"application/json"]
    api = np.array([c.name.startswith("api") for c in CLASSES])[world.request_class]
    return picked(types, np.where(api, len(exts), which))


def quoted_agents(agents: list[str]) -> list[bytes]:
    """cs(User-Agent) is URL-encoded; many clients share an agent, so each is quoted once."""
    quoted = {agent: quote(agent, safe=UA_SAFE).encode() for agent in set(agents)}
    return [quoted[agent] for agent in agents]


def result_types(world: World, rng: np.random.Generator) -> tuple[list[bytes], list[bytes]]:
    """x-edge-result-type and x-edge-detailed-result-type per duration entry:
    an error as often as the class fails, else a hit, refresh hit or miss
    (a share of the misses from the origin shield)."""
    classes = duration_classes(world)
    error = np.array([sum(p for status, p in cls.statuses if status >= 400) for cls in CLASSES])[classes]
    hit = np.array([0.88 if cls.name == "asset" else 0.04 for cls in CLASSES])[classes]
    u = rng.random(len(world.durations))
    with np.errstate(divide="ignore", invalid="ignore"):  # classes that always fail: u < error decides
        v = (u - error) / (1 - error)
    kind = np.where(u < error, 0, np.where(v < hit, 1, np.where(v < hit + 0.03, 2, 3)))
    names = [b"Error", b"Hit", b"RefreshHit", b"Miss", b"OriginShieldHit"]
    return picked(names, kind), picked(names, np.where((kind == 3) & (u > 0.985), 4, kind))


class CloudFront(Format):
    name = "cloudfront"
    summary = "Amazon CloudFront standard access log (33 W3C fields, tab-separated)"
    preamble = f"#Version: 1.0\n#Fields: {FIELDS}\n".encode()
    template = "\t".join((
        "{date}", "{time}", "{edge}", "{sc_bytes}", "{ip}", "{method}", DISTRIBUTION, "{stem}", "{status}", "{referer}",
        "{agent}", "{query}", "-", "{result}", ids.fields("request_id"), "{host}", "https", "{cs_bytes}", "{time_taken}", "-",
        "{ssl_protocol}", "{ssl_cipher}", "{response_result}", "{protocol}", "-", "-", "{port}", "{ttfb}",
        "{detailed_result}", "{content_type}", "{content_len}", "-", "-"))
    corruptions = {
        "bad_ip": bad.replace("ip", IP_TYPOS),
        "bad_method": bad.replace("method", METHOD_TYPOS),
        "bad_protocol": bad.replace("protocol", PROTOCOL_VERSION_TYPOS),
        "bad_status": bad.replace("status", STATUS_TYPOS),
        "junk": bad.junk("ip", "status", "sc_bytes", "time", "date"),
        "truncated": bad.truncated,
        "invalid_utf8": bad.invalid_utf8,
        "missing_field": bad.missing("edge", "sc_bytes", "status", "cs_bytes", "port", "content_len"),
        "time_backwards": bad.backwards,
        "oversized": bad.oversized("query", start=b"", empty=b"-"),
    }

    def pools(self, world: World) -> Pools:
        rng = np.random.default_rng(0xC10F)
        n_sizes = len(world.sizes)
        n_durations = len(world.durations)
        kinds, details = result_types(world, rng)
        tls = rng.choice(len(TLS), n_durations, p=[w for _, _, w in TLS])
        durations = np.array(world.durations)
        # 56 characters as CloudFront's: 40 bytes in base64, ending "==".
        request_ids = [ids.base64_pieces(rng, 14, b"==" if k == ids.CHUNKS - 1 else b"") for k in range(ids.CHUNKS)]
        return ids.pools("request_id", request_ids) | {
            "edge": ("client", picked(text(EDGES), rng.integers(0, len(EDGES), len(world.client_ips)))),
            "ip": ("client", text(world.client_ips)),
            "agent": ("client", quoted_agents(world.client_agents)),
            # Bytes served include the response headers.
            "sc_bytes": ("response", numbers((np.array(world.sizes) + rng.integers(240, 620, n_sizes)).tolist())),
            "status": ("response", statuses(world)),
            "content_len": ("response", dash_zero(world.sizes)),
            "method": ("request", text(world.request_methods)),
            "stem": ("request", text(world.request_paths)),
            "query": ("request", text(q[1:] or "-" for q in world.request_queries)),
            "content_type": ("request", content_types(world)),
            "referer": ("referer", text(world.referers)),
            "host": ("duration", [world.site.encode()] * n_durations),
            "cs_bytes": ("duration", per_distinct(b"%d".__mod__, rng.integers(180, 1400, n_durations).tolist())),
            "result": ("duration", kinds),
            "response_result": ("duration", kinds),
            "detailed_result": ("duration", details),
            "time_taken": ("duration", seconds((durations + rng.uniform(0.0005, 0.004, n_durations)).tolist())),
            "ttfb": ("duration", seconds((durations * rng.uniform(0.3, 0.95, n_durations)).tolist())),
            "ssl_protocol": ("duration", picked(text(t[0] for t in TLS), tls)),
            "ssl_cipher": ("duration", picked(text(t[1] for t in TLS), tls)),
            "protocol": ("duration", picked(text(["HTTP/2.0", "HTTP/1.1", "HTTP/3.0"]), rng.choice(3, n_durations, p=[0.62, 0.3, 0.08]))),
            "port": ("duration", numbers(rng.integers(1024, 65536, n_durations).tolist())),
        }

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        utc = moment.astimezone(timezone.utc)
        return {"date": utc.strftime("%Y-%m-%d").encode(), "time": utc.strftime("%H:%M:%S").encode()}
