"""Cloudflare HTTP request log as Logpush writes it (dataset http_requests,
output type ndjson, timestamp_format rfc3339): one flat JSON object per line
with a subset of the dataset's fields, in this order:

    EdgeStartTimestamp EdgeEndTimestamp ClientIP ClientCountry
    ClientDeviceType ClientRequestUserAgent ClientSSLProtocol EdgeColoCode
    ClientRequestHost ClientRequestMethod ClientRequestURI ClientRequestPath
    ClientRequestProtocol EdgeResponseContentType ClientRequestReferer
    EdgeResponseStatus EdgeResponseBytes OriginResponseStatus
    CacheCacheStatus EdgeTimeToFirstByteMs RayID ClientSrcPort

Timestamps are UTC with second resolution (what rfc3339 gives); the start
and end of a request share their second, its duration is in
EdgeTimeToFirstByteMs. A client keeps its country, colo, device type and TLS
version; the RayID is the request's own. Responses served from cache (CacheCacheStatus hit) have
OriginResponseStatus 0; uncacheable ones say dynamic. An absent referer is "".
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from generators import baddata as bad
from generators import ids
from generators.apache import IP_TYPOS, METHOD_TYPOS, PROTOCOL_TYPOS, STATUS_TYPOS
from generators.cloudfront import content_type
from generators.format import Format, Pools, json_inner, statuses, text
from generators.world import CLASSES, SIZE_POOL, World

# Countries with the colos that serve them.
# Countries (ISO 3166-1 alpha-2 in lower case, as Cloudflare writes them) with the colos that serve them.
COUNTRIES = (("us", ("IAD", "ORD", "DFW", "SJC", "SEA", "ATL")), ("de", ("FRA", "DUS", "HAM")), ("gb", ("LHR", "MAN")),
             ("fr", ("CDG", "MRS")), ("nl", ("AMS",)), ("br", ("GRU", "GIG")), ("in", ("BOM", "DEL")),
             ("jp", ("NRT", "KIX")), ("sg", ("SIN",)), ("au", ("SYD", "MEL")), ("ca", ("YYZ", "YUL")), ("pl", ("WAW",)))
COUNTRY_WEIGHTS = (0.38, 0.1, 0.09, 0.06, 0.04, 0.06, 0.07, 0.05, 0.03, 0.04, 0.05, 0.03)
TLS = (("TLSv1.3", 0.82), ("TLSv1.2", 0.18))
PORTS = 65536 - 1024
PROTOCOLS = {"HTTP/1.0": "HTTP/1.0", "HTTP/1.1": "HTTP/1.1", "HTTP/2.0": "HTTP/2"}


def cache_status(status: int, cls: str, u: float) -> str:
    if cls != "asset":
        return "dynamic"
    if status >= 400:
        return "miss"
    return "hit" if u < 0.86 else "revalidated" if u < 0.9 else "miss" if u < 0.98 else "expired"


class Cloudflare(Format):
    name = "cloudflare"
    summary = "Cloudflare HTTP request log (Logpush ndjson)"
    template = (
        '{"EdgeStartTimestamp":"{start}","EdgeEndTimestamp":"{end}","ClientIP":"{ip}","ClientCountry":"{country}",'
        '"ClientDeviceType":"{device}","ClientRequestUserAgent":"{agent}","ClientSSLProtocol":"{tls}",'
        '"EdgeColoCode":"{colo}","ClientRequestHost":"{host}","ClientRequestMethod":"{method}",'
        '"ClientRequestURI":"{uri}","ClientRequestPath":"{path}","ClientRequestProtocol":"{protocol}",'
        '"EdgeResponseContentType":"{content_type}","ClientRequestReferer":"{referer}",'
        '"EdgeResponseStatus":{status},"EdgeResponseBytes":{bytes},"OriginResponseStatus":{origin_status},'
        '"CacheCacheStatus":"{cache}","EdgeTimeToFirstByteMs":{ttfb},"RayID":"' + ids.fields("ray") + '","ClientSrcPort":{port}}')
    corruptions = {
        "bad_ip": bad.replace("ip", IP_TYPOS),
        "bad_method": bad.replace("method", METHOD_TYPOS),
        "bad_protocol": bad.replace("protocol", PROTOCOL_TYPOS),
        "bad_status": bad.replace("status", STATUS_TYPOS),
        # Only fields inside quotes: junk next to a bare number could be JSON whitespace.
        "junk": bad.junk("ip", "start", "method"),
        "truncated": bad.truncated,
        "invalid_utf8": bad.invalid_utf8,
        "missing_field": bad.missing("ip", "path", "status", "bytes", "cache"),
        "time_backwards": bad.backwards,
        "oversized": bad.oversized("uri"),
    }

    def pools(self, world: World) -> Pools:
        rng = np.random.default_rng(0xC1F)
        clients = len(world.client_ips)
        country = rng.choice(len(COUNTRIES), clients, p=COUNTRY_WEIGHTS).tolist()
        colo = [COUNTRIES[c][1][int(u * len(COUNTRIES[c][1]))] for c, u in zip(country, rng.random(clients).tolist())]
        mobile = [("Mobile" in a or "Android" in a) for a in world.client_agents]
        tls = rng.choice(len(TLS), clients, p=[w for _, w in TLS]).tolist()
        codes = statuses(world)
        classes = [CLASSES[c].name for c in world.response_class.tolist()]
        cache = [cache_status(s, classes[i // SIZE_POOL], u) for i, (s, u) in
                 enumerate(zip((s for s in world.response_status for _ in range(SIZE_POOL)),
                               rng.random(len(world.sizes)).tolist()))]
        request_classes = [CLASSES[c].name for c in world.request_class.tolist()]
        return ids.pools("ray", [ids.hex_pieces(rng, 4) for _ in range(ids.CHUNKS)]) | {
            "ip": ("client", text(world.client_ips)),
            "country": ("client", text(COUNTRIES[c][0] for c in country)),
            "device": ("client", [b"mobile" if m else b"desktop" for m in mobile]),
            "agent": ("client", json_inner(world.client_agents)),
            "tls": ("client", [TLS[t][0].encode() for t in tls]),
            "colo": ("client", text(colo)),
            "host": ("request", json_inner(world.request_hosts)),
            "method": ("request", text(world.request_methods)),
            "uri": ("request", json_inner(p + q for p, q in zip(world.request_paths, world.request_queries))),
            "path": ("request", json_inner(world.request_paths)),
            "protocol": ("request", text(PROTOCOLS[p] for p in world.request_protocols)),
            "content_type": ("request", text(content_type(p, c) for p, c in zip(world.request_paths, request_classes))),
            "referer": ("referer", json_inner("" if r == "-" else r for r in world.referers)),
            "status": ("response", codes),
            # Bytes sent include the response headers.
            "bytes": ("response", text((np.array(world.sizes) + rng.integers(300, 700, len(world.sizes))).tolist())),
            "origin_status": ("response", [b"0" if c in ("hit", "revalidated") else s for c, s in zip(cache, codes)]),
            "cache": ("response", text(cache)),
            "ttfb": ("duration", text(max(1, round(d * 1000)) for d in world.durations)),
            "port": ("port", text(range(1024, 1024 + PORTS))),
        }

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        return {"start": text, "end": text}
