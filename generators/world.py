"""The simulated web site and its visitors: every pool a log line draws from.

Built once per process from the seed. Per-line work only indexes into these
pools, so their size is what makes the output look (and compress) like real
traffic: tens of thousands of clients, a site map with Zipf-like popularity,
status codes and sizes tied to the kind of resource requested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per-line draws pick an entry of a lookup table with a uniform integer; the
# table holds each outcome in proportion to its probability. The sizes below
# are powers of two: a draw is the top bits of a random 32-bit integer.
TABLE = 1024
# Zipf-like choices among many (clients, requests) use a finer table of this size.
POPULARITY_TABLE = 1 << 18
SIZE_POOL = 1024
DURATION_POOL = 8192

BROWSERS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36", range(110, 132)),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36", range(110, 132)),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36", range(110, 132)),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0", range(115, 134)),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0", range(115, 134)),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{w}.{p5} Safari/605.1.15", range(15, 19)),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Safari/537.36 Edg/{v}.0.{e}.{p}", range(110, 132)),
)
MOBILES = (
    ("Mozilla/5.0 (iPhone; CPU iPhone OS {i}_{p5} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{i}.{p5} Mobile/15E148 Safari/604.1", range(15, 19)),
    ("Mozilla/5.0 (iPad; CPU OS {i}_{p5} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{i}.{p5} Mobile/15E148 Safari/604.1", range(15, 19)),
    ("Mozilla/5.0 (Linux; Android {a}; {model}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{p} Mobile Safari/537.36", range(110, 132)),
    ("Mozilla/5.0 (Linux; Android {a}; {model}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{w}.0 Chrome/{v}.0.0.0 Mobile Safari/537.36", range(110, 132)),
)
ANDROID_MODELS = ("SM-S918B", "SM-A546B", "Pixel 7", "Pixel 8 Pro", "M2101K6G", "CPH2451", "SM-G991B", "moto g54 5G", "22101316G", "K")
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Prometheus/2.53.0",
    "kube-probe/1.30",
)
EXTERNAL_REFERERS = (
    "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/",
    "https://t.co/", "https://www.facebook.com/", "https://news.ycombinator.com/",
    "https://www.reddit.com/", "https://www.linkedin.com/", "android-app://com.google.android.gm/",
)
WORDS = (
    "alpha", "amber", "anchor", "apple", "arrow", "aspen", "atlas", "autumn", "badge", "bamboo", "basket", "beacon",
    "berry", "blossom", "bolt", "bridge", "bronze", "cable", "cactus", "canyon", "carbon", "cedar", "chalk", "cherry",
    "circle", "cloud", "cobalt", "comet", "copper", "coral", "cotton", "crystal", "delta", "desert", "drift", "eagle",
    "echo", "ember", "falcon", "feather", "fern", "flint", "forest", "fox", "frost", "garden", "garnet", "glacier",
    "granite", "harbor", "hazel", "horizon", "indigo", "iris", "island", "ivory", "jade", "jasmine", "juniper", "kettle",
    "lagoon", "lantern", "lemon", "linen", "lotus", "maple", "marble", "meadow", "mesa", "mint", "mist", "monsoon",
    "nectar", "nova", "oak", "ocean", "olive", "onyx", "orbit", "orchid", "pebble", "pepper", "pine", "plume", "prairie",
    "quartz", "quill", "rain", "raven", "reef", "ridge", "river", "saffron", "sage", "sand", "shadow", "silver", "slate",
    "spark", "spruce", "stone", "summit", "sunset", "thistle", "thunder", "timber", "topaz", "tulip", "umber", "valley",
    "velvet", "violet", "walnut", "willow", "winter", "zenith", "lamp", "chair", "table", "shirt", "boots", "jacket",
)
USER_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar")


@dataclass(frozen=True)
class RequestClass:
    """A kind of resource, with how its responses are distributed."""

    name: str
    statuses: tuple[tuple[int, float], ...]
    size_median: float  # bytes, for a 200 response
    seconds_median: float  # time to serve


# Status codes are tied to what is requested: assets mostly hit or are
# revalidated, probes for missing files get 404, a login POST fails or redirects.
CLASSES = (
    RequestClass("page", ((200, 0.93), (301, 0.02), (302, 0.015), (404, 0.02), (500, 0.01), (503, 0.005)), 18_000, 0.080),
    RequestClass("asset", ((200, 0.86), (304, 0.12), (404, 0.02)), 45_000, 0.004),
    RequestClass("api_read", ((200, 0.95), (400, 0.01), (401, 0.01), (404, 0.015), (429, 0.01), (500, 0.005)), 2_400, 0.030),
    RequestClass("api_write", ((201, 0.80), (200, 0.08), (400, 0.06), (409, 0.02), (422, 0.03), (500, 0.01)), 600, 0.060),
    RequestClass("api_delete", ((204, 0.90), (404, 0.08), (403, 0.02)), 0, 0.040),
    RequestClass("login", ((302, 0.70), (401, 0.25), (200, 0.04), (429, 0.01)), 1_200, 0.150),
    RequestClass("missing", ((404, 0.97), (403, 0.03)), 320, 0.002),
)
STATUS_TEXT_SIZE = {204: 0, 304: 0, 301: 230, 302: 210, 400: 150, 401: 180, 403: 160, 404: 320, 409: 140, 422: 190, 429: 120, 500: 520, 503: 310}


@dataclass(frozen=True)
class World:
    """Everything a line can say, as Python values (formats encode them)."""

    client_ips: list[str]
    client_users: list[str]
    client_agents: list[str]  # the client keeps its user agent: sessions
    client_is_bot: np.ndarray
    client_table: np.ndarray  # POPULARITY_TABLE draws: client index
    request_methods: list[str]
    request_paths: list[str]
    request_queries: list[str]  # "" or "?a=b"
    request_protocols: list[str]
    request_hosts: list[str]
    request_class: np.ndarray  # index into CLASSES
    request_table: np.ndarray  # POPULARITY_TABLE draws: request index
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
    agents, bots = _agents(rng)
    ips, users, client_agents, is_bot = _clients(rng, clients, agents, bots, bot_share)
    methods, paths, queries, protocols, req_class, req_weight = _requests(rng)
    statuses, resp_class, table = _responses()
    return World(
        client_ips=ips,
        client_users=users,
        client_agents=client_agents,
        client_is_bot=is_bot,
        client_table=_popularity(1.0 / np.arange(1, clients + 1) ** 0.8),
        request_methods=methods,
        request_paths=paths,
        request_queries=queries,
        request_protocols=protocols,
        request_hosts=[site] * len(paths),
        request_class=req_class,
        request_table=_popularity(req_weight),
        response_table=table,
        response_status=statuses,
        response_class=resp_class,
        sizes=_sizes(rng, statuses, resp_class),
        durations=_durations(rng),
        referers=_referers(site, paths, req_class),
        referer_table=_referer_table(rng, paths, req_class),
        site=site,
    )


def _popularity(weights: np.ndarray) -> np.ndarray:
    """A table whose entries hold each index in proportion to its weight."""
    cdf = np.cumsum(weights, dtype=np.float64)
    quantiles = (np.arange(POPULARITY_TABLE) + 0.5) / POPULARITY_TABLE * cdf[-1]
    return np.searchsorted(cdf, quantiles).astype(np.int32)


def _agents(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    agents = []
    for template, versions in BROWSERS + MOBILES:
        v = np.repeat(np.array(versions), 12)
        n = len(v)
        draws = dict(b=rng.integers(5000, 6900, n), p=rng.integers(0, 250, n), e=rng.integers(1000, 3000, n),
                     w=rng.integers(15, 28, n), p5=rng.integers(0, 7, n), i=rng.choice(np.array(versions), n),
                     a=rng.integers(10, 15, n), model=np.array(ANDROID_MODELS)[rng.integers(len(ANDROID_MODELS), size=n)])
        columns = {name: column.tolist() for name, column in draws.items()} | {"v": v.tolist()}
        agents += [template.format(**dict(zip(columns, row))) for row in zip(*columns.values())]
    return agents, list(BOTS)


def _clients(rng, count, agents, bots, bot_share):
    ips = _distinct_ips(rng, count)
    is_bot = rng.random(count) < bot_share
    agent_pick = rng.integers(0, len(agents), count)
    bot_pick = rng.integers(0, len(bots), count)
    client_agents = [bots[b] if bot else agents[a] for bot, a, b in zip(is_bot.tolist(), agent_pick.tolist(), bot_pick.tolist())]
    logged_in = rng.random(count) < 0.05
    users = [USER_NAMES[i % len(USER_NAMES)] + str(i % 97) if li else "-" for i, li in enumerate(logged_in.tolist())]
    return ips, users, client_agents, is_bot


def _distinct_ips(rng, count: int) -> list[str]:
    """`count` different public-looking IPv4 addresses (one per client: a
    shared address would merge two clients' sessions)."""
    first = np.array([23, 31, 37, 45, 52, 66, 73, 81, 89, 98, 104, 109, 151, 176, 185, 188, 203, 212], np.int64)
    spare = count + count // 4 + 16
    packed = first[rng.integers(0, len(first), spare)] << 24 | rng.integers(1, 255, spare) << 16 \
        | rng.integers(1, 255, spare) << 8 | rng.integers(1, 255, spare)
    _, keep = np.unique(packed, return_index=True)
    packed = packed[np.sort(keep)][:count]
    return [f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}" for a in packed.tolist()]


def _slugs(rng, count: int, words: int = 2) -> list[str]:
    return ["-".join(WORDS[i] for i in row) for row in rng.integers(0, len(WORDS), (count, words)).tolist()]


def _requests(rng):
    routes: list[tuple[str, str, str, int, float]] = []  # method, path, query, class, weight

    def add(method, path, query, cls, weight):
        routes.append((method, path, query, cls, weight))

    add("GET", "/", "", 0, 400.0)
    for section in ("products", "blog", "category", "help"):
        add("GET", f"/{section}/", "", 0, 60.0)
    for rank, slug in enumerate(_slugs(rng, 4000), 1):
        add("GET", f"/products/{slug}-{rank}", "", 0, 200.0 / rank ** 0.9)
    for rank, slug in enumerate(_slugs(rng, 1500, 3), 1):
        add("GET", f"/blog/{2019 + rank % 7}/{slug}", "", 0, 80.0 / rank ** 0.9)
    for rank, cat in enumerate(_slugs(rng, 300, 1), 1):
        add("GET", f"/category/{cat}", f"?page={1 + rank % 9}&sort={'price' if rank % 3 else 'new'}", 0, 30.0 / rank ** 0.8)
    for rank, terms in enumerate(_slugs(rng, 800, 3), 1):
        add("GET", "/search", f"?q={'+'.join(terms.split('-')[:1 + rank % 3])}", 0, 20.0 / rank ** 0.7)
    for rank, (name, digest) in enumerate(zip(_slugs(rng, 600, 1), rng.integers(0, 2**32, 600).tolist()), 1):
        ext = ("js", "css", "woff2", "svg")[rank % 4]
        add("GET", f"/static/{ext}/{name}.{digest:08x}.{ext}", "", 1, 150.0 / rank ** 0.8)
    for rank, slug in enumerate(_slugs(rng, 3000), 1):
        add("GET", f"/images/{slug}-{rank}.{('jpg', 'png', 'webp')[rank % 3]}", "", 1, 120.0 / rank ** 0.9)
    for rank, item in enumerate(rng.integers(1000, 999999, 2000).tolist(), 1):
        add("GET", f"/api/v1/items/{item}", "", 2, 40.0 / rank ** 0.8)
    add("GET", "/api/v1/cart", "", 2, 40.0)
    add("GET", "/api/v1/items", "?limit=20&offset=0", 2, 30.0)
    add("POST", "/api/v1/cart/items", "", 3, 15.0)
    add("PUT", "/api/v1/cart", "", 3, 5.0)
    add("PATCH", "/api/v1/profile", "", 3, 2.0)
    add("POST", "/api/v1/orders", "", 3, 4.0)
    for rank, item in enumerate(rng.integers(1, 99999, 200).tolist(), 1):
        add("DELETE", f"/api/v1/cart/items/{item}", "", 4, 2.0 / rank ** 0.5)
    add("GET", "/login", "", 0, 25.0)
    add("POST", "/login", "", 5, 20.0)
    add("HEAD", "/", "", 0, 4.0)
    add("OPTIONS", "/api/v1/items", "", 2, 3.0)
    for probe in ("/wp-login.php", "/.env", "/xmlrpc.php", "/admin/config.php", "/.git/config", "/phpmyadmin/", "/favicon.ico",
                  "/apple-touch-icon.png", "/robots.txt.bak", "/cgi-bin/luci", "/vendor/phpunit/eval-stdin.php"):
        add("GET", probe, "", 6, 3.0)
    utm = ("?utm_source=newsletter&utm_medium=email", "?utm_source=google&utm_medium=cpc", "?ref=homepage", "?gclid=Cj0KCQ")
    tagged = [(m, p, utm[i % len(utm)], c, w * 0.15) for i, (m, p, q, c, w) in enumerate(routes) if c == 0 and not q and i % 5 == 0]
    routes.extend(tagged)
    methods, paths, queries, classes, weights = zip(*routes)
    protocols = ["HTTP/2.0" if i % 3 else "HTTP/1.1" for i in range(len(paths))]
    return list(methods), list(paths), list(queries), protocols, np.array(classes, np.int16), np.array(weights)


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
        median = CLASSES[c].size_median if status < 300 and status != 204 else STATUS_TEXT_SIZE.get(status, 200)
        if median == 0:
            sizes.extend([0] * SIZE_POOL)
        else:
            sizes.extend(np.maximum(1, rng.lognormal(np.log(median), 1.1, SIZE_POOL)).astype(np.int64).tolist())
    return sizes


def _durations(rng) -> list[float]:
    out: list[float] = []
    for cls in CLASSES:
        out.extend(np.round(rng.lognormal(np.log(cls.seconds_median), 0.9, DURATION_POOL), 3).tolist())
    return out


def _referers(site, paths, req_class) -> list[str]:
    pages = [p for p, c in zip(paths, req_class.tolist()) if c == 0]
    return ["-", *EXTERNAL_REFERERS, *(f"https://{site}{p}" for p in pages)]


def _referer_table(rng, paths, req_class) -> np.ndarray:
    pages = int((req_class == 0).sum())
    first_page = 1 + len(EXTERNAL_REFERERS)
    table = np.empty(TABLE, np.int32)
    direct, external = int(TABLE * 0.28), int(TABLE * 0.12)
    table[:direct] = 0
    table[direct:direct + external] = rng.integers(1, first_page, external)
    # Same-site referers favour the popular pages, as navigation does.
    ranks = np.minimum(rng.zipf(1.3, TABLE - direct - external) - 1, pages - 1)
    table[direct + external:] = first_page + ranks
    return table
