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
from generators.cloudfront import content_types
from generators.format import Format, Pools, json_inner, numbers, per_distinct, picked, statuses, text
from generators.site import CLASS
from generators.world import SIZE_POOL, World

# Countries with the colos that serve them.
# Countries (ISO 3166-1 alpha-2 in lower case, as Cloudflare writes them) with the colos that serve them.
COUNTRIES = (("us", ("IAD", "ORD", "DFW", "SJC", "SEA", "ATL")), ("de", ("FRA", "DUS", "HAM")), ("gb", ("LHR", "MAN")),
             ("fr", ("CDG", "MRS")), ("nl", ("AMS",)), ("br", ("GRU", "GIG")), ("in", ("BOM", "DEL")),
             ("jp", ("NRT", "KIX")), ("sg", ("SIN",)), ("au", ("SYD", "MEL")), ("ca", ("YYZ", "YUL")), ("pl", ("WAW",)))
COUNTRY_WEIGHTS = (0.38, 0.1, 0.09, 0.06, 0.04, 0.06, 0.07, 0.05, 0.03, 0.04, 0.05, 0.03)
TLS = (("TLSv1.3", 0.82), ("TLSv1.2", 0.18))
PORTS = 65536 - 1024
PROTOCOLS = {"HTTP/1.0": "HTTP/1.0", "HTTP/1.1": "HTTP/1.1", "HTTP/2.0": "HTTP/2"}


CACHE = ("dynamic", "miss", "hit", "revalidated", "expired")


def cache_statuses(world: World, u: np.ndarray) -> np.ndarray:
    """CacheCacheStatus (index into CACHE) of each response entry: only assets
    are cached, errors never."""
    response = np.arange(len(world.sizes)) // SIZE_POOL
    asset = (world.response_class == CLASS["asset"])[response]
    error = (np.array(world.response_status) >= 400)[response]
    served = np.select([u < 0.86, u < 0.9, u < 0.98], [2, 3, 1], 4)
    return np.where(asset, np.where(error, 1, served), 0)


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
        country = rng.choice(len(COUNTRIES), clients, p=COUNTRY_WEIGHTS)
        colos = np.array([len(c[1]) for c in COUNTRIES])
        first_colo = np.cumsum(colos) - colos
        colo = first_colo[country] + (rng.random(clients) * colos[country]).astype(np.int64)
        device = {a: b"mobile" if "Mobile" in a or "Android" in a else b"desktop" for a in set(world.client_agents)}
        tls = rng.choice(len(TLS), clients, p=[w for _, w in TLS])
        codes = statuses(world)
        cache = cache_statuses(world, rng.random(len(world.sizes)))
        origin = np.array(codes, dtype=object)
        origin[(cache == 2) | (cache == 3)] = b"0"  # served from the cache
        return ids.pools("ray", [ids.hex_pieces(rng, 4) for _ in range(ids.CHUNKS)]) | {
            "ip": ("client", text(world.client_ips)),
            "country": ("client", picked(text(c[0] for c in COUNTRIES), country)),
            "device": ("client", list(map(device.__getitem__, world.client_agents))),
            "agent": ("client", json_inner(world.client_agents)),
            "tls": ("client", picked(text(t[0] for t in TLS), tls)),
            "colo": ("client", picked(text(name for c in COUNTRIES for name in c[1]), colo)),
            "host": ("request", json_inner(world.request_hosts)),
            "method": ("request", text(world.request_methods)),
            "uri": ("request", json_inner(p + q for p, q in zip(world.request_paths, world.request_queries))),
            "path": ("request", json_inner(world.request_paths)),
            "protocol": ("request", text(PROTOCOLS[p] for p in world.request_protocols)),
            "content_type": ("request", content_types(world)),
            "referer": ("referer", json_inner("" if r == "-" else r for r in world.referers)),
            "status": ("response", codes),
            # Bytes sent include the response headers.
            "bytes": ("response", numbers((np.array(world.sizes) + rng.integers(300, 700, len(world.sizes))).tolist())),
            "origin_status": ("response", origin.tolist()),
            "cache": ("response", picked(text(CACHE), cache)),
            "ttfb": ("duration", per_distinct(lambda d: b"%d" % max(1, round(d * 1000)), world.durations)),
            "port": ("port", numbers(range(1024, 1024 + PORTS))),
        }

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        return {"start": text, "end": text}
