"""The simulated web site and its visitors: every pool a log line draws from.

Built once per process from the seed. Per-line work only indexes into these
pools, so their size is what makes the output look (and compress) like real
traffic: tens of thousands of clients (browsers in published shares,
crawlers, scanners: generators/agents.py), a site map with Zipf-like
popularity that each kind of visitor walks its own way, status codes and
sizes tied to the kind of resource requested (generators/site.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from generators.agents import (BOTS, CRAWLER_SHARE, CRAWLERS, HUMANS, MONITORS, SCANNERS, addresses_in, assign_by_weight,
                               dotted, human_agents)

__all__ = ["BOTS", "CLASSES", "World", "build_world"]
from generators.site import CLASS, CLASSES, CRAWLER, HUMAN, SCANNER, STATUS_TEXT_SIZE, routes

MONITOR = 3  # a client kind outside the request tables: monitors ask at their own pace
# What the data models, with the sources of its shares (shown by `generate --list`).
MODEL = (
    "12,000 clients with Zipf-like activity; each keeps its address and user agent",
    "browsers and OSes in StatCounter Global Stats shares (worldwide, February 2025), user agents of 2025 releases",
    "8 % bots (--bot-share): crawlers from their operators' ranges (Googlebot 66.249.64.0/19) fetching robots.txt,",
    "  sitemaps and pages; scanners probing for /.env, /wp-login.php and the like",
    "kube-probe (/healthz every 10 s) and Prometheus (/metrics every 15 s) from 10.0.0.0/8",
    "a shop of ~12,000 paths with Zipf-like popularity: GET far ahead, POST second, DELETE rarest",
    "  (the weights of routes, methods and statuses are ours, set by hand: no published source has them)",
    "statuses tied to the route: 404 for probes, removed pages and icons; 5xx in bursts of a failing back end",
    "  (one incident of 1.5-4 s of simulated time per 100,000 lines); HEAD, 204 and 304 without a body",
    "ids unique per request (CloudFront, Cloudflare, ALB); CloudFront files and objects begin with #Version/#Fields",
)

# Per-line draws pick an entry of a lookup table with a uniform integer; the
# table holds each outcome in proportion to its probability. The sizes below
# are powers of two: a draw is the top bits of a random 32-bit integer.
TABLE = 1024
# Zipf-like choices among many (clients, requests) use a finer table of this size.
POPULARITY_TABLE = 1 << 18
SIZE_POOL = 1024
DURATION_POOL = 4096

EXTERNAL_REFERERS = (
    "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/",
    "https://t.co/", "https://www.facebook.com/", "https://news.ycombinator.com/",
    "https://www.reddit.com/", "https://www.linkedin.com/", "android-app://com.google.android.gm/",
)
USER_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar")


class World(NamedTuple):
    """Everything a line can say, as Python values (formats encode them)."""

    seed: int
    client_ips: list[str]
    client_users: list[str]
    client_agents: list[str]  # the client keeps its user agent: sessions
    client_is_bot: np.ndarray
    client_kind: np.ndarray  # HUMAN, CRAWLER, SCANNER (site.py) or MONITOR
    client_table: np.ndarray  # POPULARITY_TABLE draws: client index (never a monitor)
    monitor_clients: list[tuple[int, int, float]]  # (client, its request, seconds between two)
    request_methods: list[str]
    request_paths: list[str]
    request_queries: list[str]  # "" or "?a=b"
    request_protocols: list[str]
    request_hosts: list[str]
    request_class: np.ndarray  # index into CLASSES
    request_table: np.ndarray  # [client kind, POPULARITY_TABLE draw] -> request index
    response_table: np.ndarray  # [class, TABLE] -> response index
    response_status: list[int]  # per response entry: sizes[i] comes with response_status[i // SIZE_POOL]
    response_class: np.ndarray  # response index -> class index
    sizes: list[int]  # response r's sizes: sizes[r*SIZE_POOL : (r+1)*SIZE_POOL]
    durations: list[float]  # class c's: durations[c*DURATION_POOL : ...]
    referers: list[str]
    referer_table: np.ndarray  # TABLE draws: index into referers
    site: str


def build_world(seed: int, bot_share: float = 0.08, clients: int = 12_000, site: str = "shop.example.com") -> World:
    rng = np.random.default_rng([seed, 0x57A7E])
    weights = 1.0 / np.arange(1, clients + 1) ** 0.8
    visitors = _clients(rng, weights, bot_share)
    site_map = routes(rng)
    paths = site_map.paths
    statuses, resp_class, table = _responses()
    return World(
        seed=seed,
        client_ips=visitors.ips,
        client_users=visitors.users,
        client_agents=visitors.agents,
        client_is_bot=visitors.kind != HUMAN,
        client_kind=visitors.kind,
        client_table=_popularity(weights),
        monitor_clients=[(client, paths.index(path), interval) for client, path, interval in visitors.monitors],
        request_methods=site_map.methods,
        request_paths=paths,
        request_queries=site_map.queries,
        request_protocols=(["HTTP/1.1", "HTTP/2.0", "HTTP/2.0"] * (len(paths) // 3 + 1))[:len(paths)],
        request_hosts=[site] * len(paths),
        request_class=site_map.classes,
        request_table=np.stack([_popularity(w) for w in site_map.weights]),
        response_table=table,
        response_status=statuses,
        response_class=resp_class,
        sizes=_sizes(rng, statuses, resp_class),
        durations=_durations(rng),
        referers=_referers(site, paths, site_map.classes),
        referer_table=_referer_table(rng, paths, site_map.classes),
        site=site,
    )


def _popularity(weights: np.ndarray) -> np.ndarray:
    """A table whose entries hold each index in proportion to its weight:
    entry j is the first index whose cumulative weight reaches quantile j,
    (j + 0.5) / POPULARITY_TABLE of the total."""
    cdf = np.cumsum(weights, dtype=np.float64)
    total = cdf[-1]

    def quantile(j: np.ndarray) -> np.ndarray:
        return (j + 0.5) / POPULARITY_TABLE * total

    # Index i fills the entries from where index i-1's quantiles end to where
    # its own do: the first quantile above its cumulative weight, estimated by
    # division, then moved until the quantiles themselves agree (262,144 of
    # them are never made, nor searched).
    with np.errstate(divide="ignore", invalid="ignore"):
        ends = np.clip(np.floor(cdf / total * POPULARITY_TABLE - 0.5).astype(np.int64) + 1, 0, POPULARITY_TABLE)
    for _ in range(4):
        up = (ends < POPULARITY_TABLE) & (quantile(np.minimum(ends, POPULARITY_TABLE - 1)) <= cdf)
        down = (ends > 0) & (quantile(np.maximum(ends - 1, 0)) > cdf)
        if not (up.any() or down.any()):
            break
        ends += up.astype(np.int64) - down
    else:  # the estimate was far off: search
        ends = np.searchsorted(quantile(np.arange(POPULARITY_TABLE)), cdf, side="right")
    return np.repeat(np.arange(len(cdf) + 1, dtype=np.int32), np.diff(ends, prepend=0, append=POPULARITY_TABLE))


class Visitors(NamedTuple):
    ips: list[str]
    users: list[str]
    agents: list[str]
    kind: np.ndarray  # HUMAN, CRAWLER, SCANNER or MONITOR
    monitors: list[tuple[int, str, float]]  # (client index, its path, seconds between two requests)


def _clients(rng: np.random.Generator, weights: np.ndarray, bot_share: float) -> Visitors:
    """Humans get user agents in the browser shares of agents.HUMANS, weighed
    by how much each client asks; bots are crawlers (from their ranges) or
    scanners; the monitors come last, outside the popularity table."""
    count = len(weights)
    ips = _distinct_ips(rng, count)
    kind = np.where(rng.random(count) < bot_share, np.where(rng.random(count) < CRAWLER_SHARE, CRAWLER, SCANNER), HUMAN)
    agents = np.full(count, "", dtype=object)
    human = np.flatnonzero(kind == HUMAN)
    pool, of_kind = human_agents(rng)
    share = assign_by_weight(weights[human], np.array([h[3] for h in HUMANS]), rng)
    offsets = rng.integers(0, 1 << 30, len(human))
    per_kind = np.bincount(of_kind, minlength=len(HUMANS))
    first = np.concatenate([[0], np.cumsum(per_kind)[:-1]])
    agents[human] = np.array(pool, dtype=object)[first[share] + offsets % per_kind[share]]
    crawlers = np.flatnonzero(kind == CRAWLER)
    which = rng.choice(len(CRAWLERS), len(crawlers), p=[c[2] for c in CRAWLERS])
    for c, (agent, blocks, _) in enumerate(CRAWLERS):
        mine = crawlers[which == c]
        addresses = addresses_in(blocks, len(mine), rng)
        kind[mine[len(addresses):]] = SCANNER  # more than the blocks hold: the rest scan instead
        for client, address in zip(mine.tolist(), addresses):
            agents[client], ips[client] = agent, address
    scanners = np.flatnonzero(kind == SCANNER)
    agents[scanners] = np.array(SCANNERS, dtype=object)[rng.integers(0, len(SCANNERS), len(scanners))]
    agents = agents.tolist()
    users = ["-"] * count
    for i in np.flatnonzero((rng.random(count) < 0.05) & (kind == HUMAN)).tolist():
        users[i] = USER_NAMES[i % len(USER_NAMES)] + str(i % 97)
    monitors = []
    for monitor in MONITORS:
        for address in monitor.ips:
            monitors.append((len(ips), monitor.path, monitor.interval))
            ips.append(address)
            agents.append(monitor.agent)
            users.append("-")
    kind = np.concatenate([kind, np.full(len(monitors), MONITOR)]).astype(np.int8)
    return Visitors(ips, users, agents, kind, monitors)


def _distinct_ips(rng, count: int) -> list[str]:
    """`count` different public-looking IPv4 addresses (one per client: a
    shared address would merge two clients' sessions), outside the blocks
    the crawlers come from."""
    first = np.array([23, 31, 37, 45, 52, 73, 81, 89, 98, 104, 109, 151, 176, 188, 203, 212], np.int64)
    spare = count + count // 4 + 16
    packed = first[rng.integers(0, len(first), spare)] << 24 | rng.integers(1, 255, spare) << 16 \
        | rng.integers(1, 255, spare) << 8 | rng.integers(1, 255, spare)
    _, keep = np.unique(packed, return_index=True)
    return dotted(packed[np.sort(keep)][:count])


def _responses():
    statuses: list[int] = []
    resp_class: list[int] = []
    table = np.empty((len(CLASSES), TABLE), np.int32)
    for c, cls in enumerate(CLASSES):
        start = len(statuses)
        counts = np.floor(np.array([p for _, p in cls.statuses]) * TABLE).astype(int)
        counts[0] += TABLE - counts.sum()
        table[c] = np.repeat(np.arange(start, start + len(cls.statuses)), counts)
        statuses.extend(s for s, _ in cls.statuses)
        resp_class.extend([c] * len(cls.statuses))
    return statuses, np.array(resp_class, np.int16), table


def _sizes(rng, statuses, resp_class) -> list[int]:
    sizes: list[int] = []
    for status, c in zip(statuses, resp_class.tolist()):
        cls = CLASSES[c]
        median = cls.size_median if status < 300 else STATUS_TEXT_SIZE.get(status, 200)
        if median == 0 or status in (204, 304) or c == CLASS["head"]:  # no body
            sizes.extend([0] * SIZE_POOL)
        else:
            sizes.extend(np.maximum(1, rng.lognormal(np.log(median), cls.size_spread, SIZE_POOL)).astype(np.int64).tolist())
    return sizes


def _durations(rng) -> list[float]:
    out: list[float] = []
    for cls in CLASSES:
        out.extend(np.round(rng.lognormal(np.log(cls.seconds_median), 0.9, DURATION_POOL), 3).tolist())
    return out


def _referers(site, paths, req_class) -> list[str]:
    pages = [p for p, c in zip(paths, req_class.tolist()) if c == CLASS["page"]]
    return ["-", *EXTERNAL_REFERERS, *(f"https://{site}{p}" for p in pages)]


def _referer_table(rng, paths, req_class) -> np.ndarray:
    pages = int((req_class == CLASS["page"]).sum())
    first_page = 1 + len(EXTERNAL_REFERERS)
    table = np.empty(TABLE, np.int32)
    direct, external = int(TABLE * 0.28), int(TABLE * 0.12)
    table[:direct] = 0
    table[direct:direct + external] = rng.integers(1, first_page, external)
    # Same-site referers favour the popular pages, as navigation does.
    ranks = np.minimum(rng.zipf(1.3, TABLE - direct - external) - 1, pages - 1)
    table[direct + external:] = first_page + ranks
    return table
