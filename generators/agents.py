"""Who visits: browsers in the shares real traffic has, crawlers from their
operators' address ranges, scanners, and in-cluster monitors.

Browser and operating-system shares: StatCounter Global Stats, worldwide,
all platforms, February 2025 (gs.statcounter.com, as cited by Wikipedia's
"Web browser" and "Usage share of operating systems" articles, accessed
2025-03-09): browsers Chrome 66 %, Safari 18 %, Edge 5 %, Firefox 3 %,
Samsung Internet 2 %, Opera 2 %, others 4 %; operating systems Android 46 %,
Windows 25 %, iOS 18 %, macOS 6 %, others 5 % (desktop Linux and ChromeOS
among them). The split of each browser across operating systems below is
ours, chosen so that both margins come out at those figures (Windows takes
the share StatCounter leaves unknown). User agents are those of releases from
2025 (Chrome and Edge 131-143, Firefox 134-146, Safari 18 and 26), in the
reduced form Chrome sends since version 110 (minor version 0.0.0, Android
device "K").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

CHROME = range(131, 144)
FIREFOX = range(134, 147)

# (user agent template, browser, operating system, percent of human page views)
HUMANS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
     "Chrome", "Windows", 17.0),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
     "Chrome", "macOS", 2.5),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
     "Chrome", "Linux", 0.7),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
     "Chrome", "ChromeOS", 1.0),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36",
     "Chrome", "Android", 41.6),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/{v}.0.{b}.{p} "
     "Mobile/15E148 Safari/604.1", "Chrome", "iOS", 3.2),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} "
     "Mobile/15E148 Safari/604.1", "Safari", "iOS", 13.8),
    ("Mozilla/5.0 (iPad; CPU OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} "
     "Mobile/15E148 Safari/604.1", "Safari", "iOS", 1.0),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} "
     "Safari/605.1.15", "Safari", "macOS", 3.2),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 "
     "Edg/{v}.0.{e}.{p}", "Edge", "Windows", 5.0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0", "Firefox", "Windows", 1.9),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{f}.0) Gecko/20100101 Firefox/{f}.0", "Firefox", "macOS", 0.3),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0", "Firefox", "Linux", 0.8),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{s}.0 Chrome/{v}.0.0.0 "
     "Mobile Safari/537.36", "Samsung Internet", "Android", 2.0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 "
     "OPR/{o}.0.0.0", "Opera", "Windows", 1.0),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36 "
     "OPR/{o}.0.0.0", "Opera", "Android", 1.0),
    ("Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2185 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Version/4.0 Chrome/{v}.0.0.0 UCBrowser/13.7.{p5}.1310 Mobile Safari/537.36", "UC Browser", "Android", 2.0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 "
     "YaBrowser/25.{p5}.0.0 Safari/537.36", "Yandex Browser", "Windows", 2.0),
)
# iOS and Safari versions that go together (iOS 26 keeps "18_6" in the user agent).
IOS = (("17_7", "17.7"), ("18_3", "18.3"), ("18_5", "18.5"), ("18_6", "18.6"), ("18_6", "26.0"), ("18_6", "26.1"))

# Crawlers, from address blocks their operators publish (Googlebot's
# googlebot.json lists /27 blocks inside 66.249.64.0/19; Bing's bingbot.json
# holds the three /24s given) or that their traffic comes from.
CRAWLERS = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ("66.249.64.0/20",), 0.40),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
     ("157.55.39.0/24", "207.46.13.0/24", "40.77.167.0/24"), 0.18),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", ("5.255.231.0/24", "213.180.203.0/24"), 0.06),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", ("54.36.148.0/23",), 0.12),
    ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", ("185.191.171.0/24",), 0.10),
    ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", ("20.191.45.0/24",), 0.04),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", ("69.171.230.0/24",), 0.10),
)
# Scripts and vulnerability scanners: anywhere on the internet.
SCANNERS = ("curl/8.11.1", "python-requests/2.32.3", "Go-http-client/1.1")
CRAWLER_SHARE = 0.7  # of the bots; the rest are scanners


class Monitor(NamedTuple):
    """A client inside the cluster that asks for one path at a fixed interval."""

    agent: str
    path: str
    interval: float  # seconds between two requests of one source
    ips: tuple[str, ...]  # each polls on its own (kubelets: one per node)


MONITORS = (
    Monitor("kube-probe/1.32", "/healthz", 10.0, ("10.0.1.10", "10.0.2.11", "10.0.3.12")),
    Monitor("Prometheus/3.1.0", "/metrics", 15.0, ("10.0.4.20",)),
)
BOTS = tuple(agent for agent, _, _ in CRAWLERS) + SCANNERS + tuple(m.agent for m in MONITORS)


def human_agents(rng: np.random.Generator, per_kind: int = 12) -> tuple[list[str], np.ndarray]:
    """`per_kind` user agents of each HUMANS entry (versions vary), and the
    HUMANS index of each."""
    agents: list[str] = []
    kinds: list[int] = []
    for k, (template, _, _, _) in enumerate(HUMANS):
        ios = [IOS[i] for i in rng.integers(0, len(IOS), per_kind).tolist()]
        draws = dict(v=rng.choice(np.array(CHROME), per_kind), f=rng.choice(np.array(FIREFOX), per_kind),
                     b=rng.integers(6700, 7500, per_kind), p=rng.integers(0, 200, per_kind),
                     e=rng.integers(2000, 3600, per_kind), s=rng.integers(27, 30, per_kind),
                     o=rng.integers(115, 124, per_kind), p5=rng.integers(0, 8, per_kind))
        columns = {name: column.tolist() for name, column in draws.items()}
        for row, (os_version, safari) in zip(zip(*columns.values()), ios):
            agents.append(template.format(**dict(zip(columns, row)), ios=os_version, safari=safari))
            kinds.append(k)
    return agents, np.array(kinds)


def assign_by_weight(weights: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A share index per client so that the clients' summed weights (their
    part of the lines) follow `shares`: the heaviest clients are placed one by
    one where the most is missing, the light rest in runs of a shuffled order
    over what is left."""
    target = shares / shares.sum() * weights.sum()
    out = np.empty(len(weights), np.int64)
    order = np.argsort(-weights, kind="stable")
    heavy, light = order[:256], order[256:]
    placed = np.zeros(len(shares))
    for client in heavy.tolist():
        pick = int(np.argmax(target - placed))
        out[client] = pick
        placed[pick] += weights[client]
    light = rng.permutation(light)
    left = np.maximum(target - placed, 0)
    edges = np.cumsum(left) / left.sum() * weights[light].sum()
    middles = np.cumsum(weights[light]) - weights[light] / 2
    out[light] = np.minimum(np.searchsorted(edges, middles), len(shares) - 1)
    return out


def addresses_in(blocks: tuple[str, ...], count: int, rng: np.random.Generator) -> list[str]:
    """`count` different addresses from the CIDR blocks (cycling when the blocks hold fewer)."""
    pool = []
    for block in blocks:
        base, bits = block.split("/")
        a, b, c, d = map(int, base.split("."))
        first = a << 24 | b << 16 | c << 8 | d
        pool.extend(range(first + 1, first + (1 << (32 - int(bits))) - 1))
    return dotted(rng.permutation(np.array(pool, np.int64))[:count])


# Each octet's text, right-aligned in three places (spaces before), and a dot.
OCTETS = np.frombuffer(b"".join(b"%3d." % i for i in range(256)), np.uint8).reshape(256, 4)


def dotted(packed: np.ndarray) -> list[str]:
    """IPv4 addresses as text, from their 32-bit numbers: the octets' texts
    side by side in one buffer, the spaces dropped, cut at the line ends
    (formatting them one by one took a tenth of building the world)."""
    if not len(packed):
        return []
    octets = np.stack([packed >> 24, packed >> 16 & 255, packed >> 8 & 255, packed & 255], axis=1)
    text = OCTETS[octets]
    text[:, 3, 3] = ord("\n")
    return text.tobytes().replace(b" ", b"").decode().split("\n")[:-1]
