"""nginx combined plus request timings: the "upstream_time" log_format from
NGINX's guide to performance monitoring with its built-in timing variables
(a space added before rt=, as most copies of it have):

    log_format upstream_time '$remote_addr - $remote_user [$time_local] '
        '"$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" '
        'rt=$request_time uct="$upstream_connect_time" '
        'uht="$upstream_header_time" urt="$upstream_response_time"';

Static assets and probes for missing files are served by nginx itself: no
upstream, so the three upstream times are "-". Times are seconds with
millisecond resolution; connect <= header <= response <= request time.
"""

from __future__ import annotations

import numpy as np

from generators import baddata as bad
from generators.apache import IP_TYPOS, METHOD_TYPOS, PROTOCOL_TYPOS, STATUS_TYPOS, ApacheCombined, combined_pools
from generators.format import Pools, duration_classes, numbers, seconds, text
from generators.world import CLASSES, World

SERVED_LOCALLY = {i for i, c in enumerate(CLASSES) if c.name in ("asset", "missing")}


def upstream_times(world: World) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Connect, header and response times of the upstream, per duration entry."""
    rng = np.random.default_rng(0x6E67)
    total = np.array(world.durations)
    # The client side (reading the request, sending the response) takes a
    # slice of the request time; the upstream has the rest.
    response = np.round(total * rng.uniform(0.80, 1.0, total.size), 3)
    header = np.round(response * rng.uniform(0.55, 0.98, total.size), 3)
    connect = np.minimum(header, np.round(rng.lognormal(np.log(0.0008), 0.8, total.size), 3))
    local = np.isin(duration_classes(world), list(SERVED_LOCALLY))
    columns = []
    for values in (connect, header, response):
        column = np.array(seconds(values), dtype=object)
        column[local] = b"-"
        columns.append(column.tolist())
    return columns[0], columns[1], columns[2]


class Nginx(ApacheCombined):
    name = "nginx"
    summary = "nginx combined + request_time/upstream times (upstream_time)"
    template = ('{ip} - {user} [{time}] "{method} {target} {protocol}" {status} {size} "{referer}" "{agent}" '
                'rt={rt} uct="{uct}" uht="{uht}" urt="{urt}"')
    corruptions = {
        "bad_ip": bad.replace("ip", IP_TYPOS),
        "bad_method": bad.replace("method", METHOD_TYPOS),
        "bad_protocol": bad.replace("protocol", PROTOCOL_TYPOS),
        "bad_status": bad.replace("status", STATUS_TYPOS),
        "junk": bad.junk("ip", "status", "size", "time", "rt"),
        "truncated": bad.truncated,
        "invalid_utf8": bad.invalid_utf8,
        "missing_field": bad.missing("user", "status", "size", "uct"),
        "time_backwards": bad.backwards,
        "oversized": bad.oversized("target"),
    }

    def pools(self, world: World) -> Pools:
        connect, header, response = upstream_times(world)
        return combined_pools(world) | {
            "size": ("response", numbers(world.sizes)),  # $body_bytes_sent: 0, never "-"
            "rt": ("duration", seconds(world.durations)),
            "uct": ("duration", connect),
            "uht": ("duration", header),
            "urt": ("duration", response),
        }
