"""The simulated shop's site map: every route, what kind of resource it is
(and so which statuses and sizes it gets), and how often each kind of
visitor asks for it.

Errors come from where they come on real sites, not evenly from every page:
404 from probes for software the site does not run, old URLs that were
removed (crawlers revisit them most), the icons browsers ask for without a
link; 4xx from API and login mistakes; 5xx almost only in the bursts of a
failing back end (generators/incidents.py). Pages and assets that exist
answer 200 or 304.

Methods follow what browsers and API clients send: GET far ahead, POST
(forms, cart, analytics beacons) second, then CORS preflights (OPTIONS), PUT,
PATCH, and DELETE rarest; HEAD comes from scripts and link checkers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

HUMAN, CRAWLER, SCANNER = 0, 1, 2  # visitor kinds, rows of the request tables
VISITOR_KINDS = 3

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


class RequestClass(NamedTuple):
    """A kind of resource, with how its responses are distributed."""

    name: str
    statuses: tuple[tuple[int, float], ...]
    size_median: float  # bytes, for a 2xx response
    seconds_median: float  # time to serve
    size_spread: float = 1.1  # sigma of the log-normal body size


CLASSES = (
    RequestClass("page", ((200, 0.985), (304, 0.01), (302, 0.005)), 18_000, 0.080),
    RequestClass("asset", ((200, 0.84), (304, 0.16)), 45_000, 0.004),
    RequestClass("api_read", ((200, 0.965), (304, 0.01), (401, 0.01), (404, 0.01), (429, 0.005)), 2_400, 0.030),
    RequestClass("api_write", ((201, 0.86), (200, 0.06), (400, 0.035), (409, 0.015), (422, 0.028), (500, 0.002)), 600, 0.060),
    RequestClass("api_delete", ((204, 0.94), (404, 0.05), (403, 0.01)), 0, 0.040),
    RequestClass("login", ((302, 0.70), (401, 0.25), (200, 0.04), (429, 0.01)), 1_200, 0.150),
    RequestClass("missing", ((404, 0.96), (403, 0.04)), 320, 0.002),
    RequestClass("gone", ((404, 0.80), (410, 0.05), (301, 0.15)), 320, 0.020),
    RequestClass("head", ((200, 0.95), (301, 0.05)), 0, 0.030),  # HEAD: headers only, never a body
    RequestClass("robots", ((200, 0.97), (304, 0.03)), 2_000, 0.002),
    RequestClass("health", ((200, 1.0),), 2, 0.001, 0.0),  # "ok"
    RequestClass("metrics", ((200, 1.0),), 40_000, 0.012, 0.1),
    # Not a route: what a failing back end answers (generators/incidents.py).
    RequestClass("outage", ((502, 0.3), (503, 0.5), (504, 0.2)), 0, 1.000),
)
CLASS = {c.name: i for i, c in enumerate(CLASSES)}
STATUS_TEXT_SIZE = {204: 0, 304: 0, 301: 230, 302: 210, 400: 150, 401: 180, 403: 160, 404: 320, 409: 140, 410: 180,
                    422: 190, 429: 120, 500: 520, 502: 150, 503: 310, 504: 160}
PROBES = ("/wp-login.php", "/.env", "/xmlrpc.php", "/admin/config.php", "/.git/config", "/phpmyadmin/", "/robots.txt.bak",
          "/cgi-bin/luci", "/vendor/phpunit/eval-stdin.php", "/wp-content/plugins/", "/server-status", "/.aws/credentials")
MONITOR_PATHS = ("/healthz", "/metrics")


class Routes(NamedTuple):
    methods: list[str]
    paths: list[str]
    queries: list[str]  # "" or "?a=b"
    classes: np.ndarray  # index into CLASSES
    weights: np.ndarray  # [visitor kind, route]: how often each kind asks for it


def slugs(rng: np.random.Generator, count: int, words: int = 2) -> list[str]:
    picks = rng.integers(0, len(WORDS), (count, words))
    out = _WORDS[picks[:, 0]]
    for k in range(1, words):
        out = out + _DASH + _WORDS[picks[:, k]]
    return out.tolist()


_WORDS = np.array(WORDS, dtype=object)  # joined as arrays of strings: one by one took a tenth of building the world
_DASH = np.array("-", dtype=object)


class RouteTable:
    """The routes as columns, added one at a time or many of a kind at once."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.paths: list[str] = []
        self.queries: list[str] = []
        self.classes: list[int] = []
        self.weights: tuple[list[float], list[float], list[float]] = ([], [], [])

    def add(self, method: str, path: str | list[str], query: str | list[str], cls: str,
            human: float | list[float], crawler: float | list[float] = 0.0, scanner: float | list[float] = 0.0) -> None:
        """One route, or as many as `path` lists; a column given as one value holds for all of them."""
        paths = [path] if isinstance(path, str) else path
        count = len(paths)

        def column(value):
            return value if isinstance(value, list) else [value] * count

        self.methods += [method] * count
        self.paths += paths
        self.queries += column(query)
        self.classes += [CLASS[cls]] * count
        for weights, value in zip(self.weights, (human, crawler, scanner)):
            weights += column(value)


def routes(rng: np.random.Generator) -> Routes:
    table = RouteTable()
    add = table.add
    add("GET", "/", "", "page", 400.0, 20.0, 60.0)
    for section in ("products", "blog", "category", "help"):
        add("GET", f"/{section}/", "", "page", 60.0, 10.0)
    ranks = range(1, 4001)
    add("GET", [f"/products/{slug}-{rank}" for rank, slug in zip(ranks, slugs(rng, 4000))], "", "page",
        [200.0 / rank ** 0.9 for rank in ranks], [8.0 / rank ** 0.3 for rank in ranks])
    ranks = range(1, 1501)
    add("GET", [f"/blog/{2019 + rank % 7}/{slug}" for rank, slug in zip(ranks, slugs(rng, 1500, 3))], "", "page",
        [80.0 / rank ** 0.9 for rank in ranks], [4.0 / rank ** 0.3 for rank in ranks])
    ranks = range(1, 301)
    add("GET", [f"/category/{cat}" for cat in slugs(rng, 300, 1)],
        [f"?page={1 + rank % 9}&sort={'price' if rank % 3 else 'new'}" for rank in ranks], "page",
        [30.0 / rank ** 0.8 for rank in ranks], [2.0 / rank ** 0.3 for rank in ranks])
    ranks = range(1, 801)
    add("GET", ["/search"] * 800, [f"?q={'+'.join(terms.split('-')[:1 + rank % 3])}" for rank, terms in
                                   zip(ranks, slugs(rng, 800, 3))], "page", [20.0 / rank ** 0.7 for rank in ranks])
    ranks = range(1, 601)
    exts = [("js", "css", "woff2", "svg")[rank % 4] for rank in ranks]
    add("GET", [f"/static/{ext}/{name}.{digest:08x}.{ext}" for ext, name, digest in
                zip(exts, slugs(rng, 600, 1), rng.integers(0, 2**32, 600).tolist())], "", "asset",
        [150.0 / rank ** 0.8 for rank in ranks], [0.5 / rank ** 0.8 for rank in ranks])
    ranks = range(1, 3001)
    add("GET", [f"/images/{slug}-{rank}.{('jpg', 'png', 'webp')[rank % 3]}" for rank, slug in zip(ranks, slugs(rng, 3000))],
        "", "asset", [120.0 / rank ** 0.9 for rank in ranks], [2.0 / rank ** 0.5 for rank in ranks])
    add("GET", "/favicon.ico", "", "asset", 30.0, 1.0)
    ranks = range(1, 2001)
    add("GET", [f"/api/v1/items/{item}" for item in rng.integers(1000, 999999, 2000).tolist()], "", "api_read",
        [40.0 / rank ** 0.8 for rank in ranks], 0.0, [0.2 / rank ** 0.8 for rank in ranks])
    add("GET", "/api/v1/cart", "", "api_read", 40.0)
    add("GET", "/api/v1/items", "?limit=20&offset=0", "api_read", 30.0, 0.0, 10.0)
    add("POST", "/api/v1/events", "", "api_write", 150.0)  # analytics beacons
    add("POST", "/api/v1/cart/items", "", "api_write", 60.0)
    add("POST", "/api/v1/orders", "", "api_write", 10.0)
    add("OPTIONS", "/api/v1/items", "", "api_read", 10.0)
    add("PUT", "/api/v1/cart", "", "api_write", 8.0)
    add("PATCH", "/api/v1/profile", "", "api_write", 3.0)
    ranks = range(1, 201)
    add("DELETE", [f"/api/v1/cart/items/{item}" for item in rng.integers(1, 99999, 200).tolist()], "", "api_delete",
        [0.08 / rank ** 0.5 for rank in ranks])
    add("GET", "/login", "", "page", 25.0, 0.0, 10.0)
    add("POST", "/login", "", "login", 40.0, 0.0, 25.0)
    add("HEAD", "/", "", "head", 0.0, 2.0, 40.0)
    add("GET", "/robots.txt", "", "robots", 0.0, 12.0, 15.0)
    for sitemap in ("/sitemap.xml", "/sitemap-products-1.xml", "/sitemap-products-2.xml", "/sitemap-blog.xml"):
        add("GET", sitemap, "", "robots", 0.0, 3.0)
    add("GET", "/apple-touch-icon.png", "", "missing", 6.0)
    add("GET", "/apple-touch-icon-precomposed.png", "", "missing", 4.0)
    add("GET", list(PROBES), "", "missing", 0.0, 0.0, 30.0)
    ranks = range(1, 401)
    add("GET", [f"/products/{slug}-{4000 + rank}" for rank, slug in zip(ranks, slugs(rng, 400))], "", "gone",
        40.0 / 400, [6.0 / rank ** 0.3 for rank in ranks])  # products taken off the catalogue
    for path in MONITOR_PATHS:  # asked for only by the monitors, at their own pace
        add("GET", path, "", "health" if path == "/healthz" else "metrics", 0.0)
    # Campaign links: every fifth plain GET page again, with a tracking query.
    utm = ("?utm_source=newsletter&utm_medium=email", "?utm_source=google&utm_medium=cpc", "?ref=homepage", "?gclid=Cj0KCQ")
    page, human = CLASS["page"], table.weights[0]
    tagged = [i for i in range(0, len(table.paths), 5)
              if table.classes[i] == page and table.methods[i] == "GET" and not table.queries[i]]
    add("GET", [table.paths[i] for i in tagged], [utm[i % len(utm)] for i in tagged], "page",
        [human[i] * 0.15 for i in tagged])
    return Routes(table.methods, table.paths, table.queries, np.array(table.classes, np.int16), np.array(table.weights))
