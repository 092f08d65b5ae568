"""AWS Application Load Balancer access log entry, fields space-separated in
the documented order:

    type time elb client:port target:port request_processing_time
    target_processing_time response_processing_time elb_status_code
    target_status_code received_bytes sent_bytes "request" "user_agent"
    ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
    "chosen_cert_arn" matched_rule_priority request_creation_time
    "actions_executed" "redirect_url" "error_reason" "target:port_list"
    "target_status_code_list" "classification" "classification_reason"
    conn_trace_id

Times are UTC with microseconds and Z whatever the chosen time zone. The
listener is HTTPS on 443; every request is forwarded by the default rule
(priority 0) to one target group. A client keeps its TLS cipher and version
and its HTTP version (type h2 for HTTP/2, else https).

To keep a line to few pieces (see generators/template.py), everything from
the client port to sent_bytes, and the tail from target:port_list on, is
drawn with the response: status and size as the world gives them, the
target (targets take turns), client port, connection trace id and the
processing times (log-normal around the request class's median, shorter for
errors).

request_creation_time is within the same second as time and never after it,
but only approximately time minus the processing times: the engine draws
each field from one entity, and the millisecond of the line cannot be
combined with its duration (the creation millisecond comes from a table
indexed by the line's millisecond).
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from generators import baddata as bad
from generators import ids
from generators.apache import IP_TYPOS, METHOD_TYPOS, PROTOCOL_TYPOS, STATUS_TYPOS
from generators.format import MILLIS, Format, Pools, numbers, per_distinct, picked, seconds, statuses, text
from generators.world import CLASSES, SIZE_POOL, World

ACCOUNT = "123456789012"
REGION = "us-east-1"
ELB = "app/shop-prod-alb/7d5e3c2b1a0f9e8d"
TARGET_GROUP = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/shop-web/3f9a1c7e5b2d4a60"
CERT = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/8c2f5e1a-4b7d-4e9a-9c3f-2d6b1a8e7f40"
TARGETS = tuple(f"10.0.{1 + i % 3}.{20 + 7 * i}:8080" for i in range(8))
TLS = (("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", 0.35), ("TLS_AES_128_GCM_SHA256", "TLSv1.3", 0.5),
       ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 0.12), ("ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.2", 0.03))

TYPE_TYPOS = (b"h3", b"HTTP", b"tcp")


def hex_ids(rng: np.random.Generator, count: int, digits: int) -> list[bytes]:
    raw = rng.integers(0, 256, (count, digits // 2), dtype=np.uint8)
    nibbles = np.stack([raw >> 4, raw & 15], axis=-1).reshape(count, digits)
    return np.frombuffer(ids.HEX, np.uint8)[nibbles].view(f"S{digits}").ravel().tolist()


class Alb(Format):
    name = "alb"
    summary = "AWS Application Load Balancer access log"
    template = (
        '{type} {time}.{milli}{micro}Z ' + ELB + ' {ip}:{client_port} {target} {request_processing} {target_processing} '
        '{response_processing} {elb_status} {target_status} {received} {sent} "{method} {url} {protocol}" "{agent}" '
        '{cipher} {tls} ' + TARGET_GROUP + ' "Root=1-{trace_time}-' + ids.fields("trace_id") + '" "{domain}" "' + CERT + '" 0 '
        '{creation}.{creation_milli}000Z "forward" "-" "-" "{target_list}" "{target_status_list}" "-" "-" {conn_trace}')
    corruptions = {
        "bad_ip": bad.replace("ip", IP_TYPOS),
        "bad_method": bad.replace("method", METHOD_TYPOS),
        "bad_protocol": bad.replace("protocol", PROTOCOL_TYPOS),
        "bad_status": bad.replace("elb_status", STATUS_TYPOS),
        "junk": bad.junk("ip", "elb_status", "sent", "time", "request_processing"),
        "truncated": bad.truncated,
        "invalid_utf8": bad.invalid_utf8,
        "missing_field": bad.missing("type", "target", "received", "cipher", "conn_trace"),
        "time_backwards": bad.backwards,
        "oversized": bad.oversized("url"),
    }

    def pools(self, world: World) -> Pools:
        rng = np.random.default_rng(0xA1B)
        clients = len(world.client_ips)
        tls = rng.choice(len(TLS), clients, p=[w for _, _, w in TLS])
        # Browsers speak HTTP/2; bots and scripts mostly HTTP/1.1.
        h2 = rng.random(clients) < np.where(world.client_is_bot, 0.2, 0.85)
        sizes = np.array(world.sizes)
        n = sizes.size
        codes = statuses(world)
        medians = np.array([CLASSES[c].seconds_median for c in world.response_class.tolist()]).repeat(SIZE_POOL)
        errors = np.array([s >= 400 for s in world.response_status]).repeat(SIZE_POOL)
        processing = np.round(rng.lognormal(np.log(medians * np.where(errors, 0.3, 1.0)), 0.9), 3)
        targets = picked(text(TARGETS), rng.integers(0, len(TARGETS), n))
        # The creation millisecond: a little before the line's own, never in the previous second.
        creation = np.maximum(0, np.arange(1000) - np.rint(rng.lognormal(np.log(25), 1.0, 1000))).astype(int)
        # The Root's 24 hex digits after its time: the request's own.
        return ids.pools("trace_id", [ids.hex_pieces(rng, 6) for _ in range(ids.CHUNKS)]) | {
            "type": ("client", picked([b"https", b"h2"], h2.astype(np.intp))),
            "ip": ("client", text(world.client_ips)),
            "protocol": ("client", picked([b"HTTP/1.1", b"HTTP/2.0"], h2.astype(np.intp))),
            "agent": ("client", text(world.client_agents)),
            "cipher": ("client", picked(text(t[0] for t in TLS), tls)),
            "tls": ("client", picked(text(t[1] for t in TLS), tls)),
            "method": ("request", text(world.request_methods)),
            "url": ("request", text(f"https://{h}:443{p}{q}" for h, p, q in
                                     zip(world.request_hosts, world.request_paths, world.request_queries))),
            "domain": ("request", text(world.request_hosts)),
            "client_port": ("response", numbers(rng.integers(1024, 65536, n).tolist())),
            "target": ("response", targets),
            "request_processing": ("response", seconds(rng.choice([0.0, 0.001], n, p=[0.8, 0.2]).tolist())),
            "target_processing": ("response", seconds(processing.tolist())),
            "response_processing": ("response", seconds(rng.choice([0.0, 0.001], n, p=[0.9, 0.1]).tolist())),
            "elb_status": ("response", codes),
            "target_status": ("response", codes),
            # Bytes received: request line and headers; sent: the body and its headers.
            "received": ("response", per_distinct(b"%d".__mod__, rng.integers(220, 1600, n).tolist())),
            "sent": ("response", numbers((sizes + rng.integers(160, 480, n)).tolist())),
            "target_list": ("response", targets),
            "target_status_list": ("response", codes),
            "conn_trace": ("response", [b"TID_" + h for h in hex_ids(rng, n, 32)]),
            "milli": ("milli", MILLIS),
            "micro": ("micro", MILLIS),
            "creation_milli": ("milli", picked(MILLIS, creation)),
        }

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        utc = moment.astimezone(timezone.utc)
        iso = utc.strftime("%Y-%m-%dT%H:%M:%S").encode()
        return {"time": iso, "trace_time": b"%08x" % int(utc.timestamp()), "creation": iso}
