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

from dataclasses import dataclass

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


@dataclass(frozen=True)
class RequestClass:
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


@dataclass(frozen=True)
class Routes:
    methods: list[str]
    paths: list[str]
    queries: list[str]  # "" or "?a=b"
    classes: np.ndarray  # index into CLASSES
    weights: np.ndarray  # [visitor kind, route]: how often each kind asks for it


def slugs(rng: np.random.Generator, count: int, words: int = 2) -> list[str]:
    return ["-".join(WORDS[i] for i in row) for row in rng.integers(0, len(WORDS), (count, words)).tolist()]


def routes(rng: np.random.Generator) -> Routes:
    out: list[tuple[str, str, str, int, float, float, float]] = []

    def add(method: str, path: str, query: str, cls: str, human: float, crawler: float = 0.0, scanner: float = 0.0) -> None:
        out.append((method, path, query, CLASS[cls], human, crawler, scanner))

    add("GET", "/", "", "page", 400.0, 20.0, 60.0)
    for section in ("products", "blog", "category", "help"):
        add("GET", f"/{section}/", "", "page", 60.0, 10.0)
    for rank, slug in enumerate(slugs(rng, 4000), 1):
        add("GET", f"/products/{slug}-{rank}", "", "page", 200.0 / rank ** 0.9, 8.0 / rank ** 0.3)
    for rank, slug in enumerate(slugs(rng, 1500, 3), 1):
        add("GET", f"/blog/{2019 + rank % 7}/{slug}", "", "page", 80.0 / rank ** 0.9, 4.0 / rank ** 0.3)
    for rank, cat in enumerate(slugs(rng, 300, 1), 1):
        add("GET", f"/category/{cat}", f"?page={1 + rank % 9}&sort={'price' if rank % 3 else 'new'}", "page",
            30.0 / rank ** 0.8, 2.0 / rank ** 0.3)
    for rank, terms in enumerate(slugs(rng, 800, 3), 1):
        add("GET", "/search", f"?q={'+'.join(terms.split('-')[:1 + rank % 3])}", "page", 20.0 / rank ** 0.7)
    for rank, (name, digest) in enumerate(zip(slugs(rng, 600, 1), rng.integers(0, 2**32, 600).tolist()), 1):
        ext = ("js", "css", "woff2", "svg")[rank % 4]
        add("GET", f"/static/{ext}/{name}.{digest:08x}.{ext}", "", "asset", 150.0 / rank ** 0.8, 0.5 / rank ** 0.8)
    for rank, slug in enumerate(slugs(rng, 3000), 1):
        add("GET", f"/images/{slug}-{rank}.{('jpg', 'png', 'webp')[rank % 3]}", "", "asset", 120.0 / rank ** 0.9,
            2.0 / rank ** 0.5)
    add("GET", "/favicon.ico", "", "asset", 30.0, 1.0)
    for rank, item in enumerate(rng.integers(1000, 999999, 2000).tolist(), 1):
        add("GET", f"/api/v1/items/{item}", "", "api_read", 40.0 / rank ** 0.8, 0.0, 0.2 / rank ** 0.8)
    add("GET", "/api/v1/cart", "", "api_read", 40.0)
    add("GET", "/api/v1/items", "?limit=20&offset=0", "api_read", 30.0, 0.0, 10.0)
    add("POST", "/api/v1/events", "", "api_write", 150.0)  # analytics beacons
    add("POST", "/api/v1/cart/items", "", "api_write", 60.0)
    add("POST", "/api/v1/orders", "", "api_write", 10.0)
    add("OPTIONS", "/api/v1/items", "", "api_read", 10.0)
    add("PUT", "/api/v1/cart", "", "api_write", 8.0)
    add("PATCH", "/api/v1/profile", "", "api_write", 3.0)
    for rank, item in enumerate(rng.integers(1, 99999, 200).tolist(), 1):
        add("DELETE", f"/api/v1/cart/items/{item}", "", "api_delete", 0.08 / rank ** 0.5)
    add("GET", "/login", "", "page", 25.0, 0.0, 10.0)
    add("POST", "/login", "", "login", 40.0, 0.0, 25.0)
    add("HEAD", "/", "", "head", 0.0, 2.0, 40.0)
    add("GET", "/robots.txt", "", "robots", 0.0, 12.0, 15.0)
    for sitemap in ("/sitemap.xml", "/sitemap-products-1.xml", "/sitemap-products-2.xml", "/sitemap-blog.xml"):
        add("GET", sitemap, "", "robots", 0.0, 3.0)
    add("GET", "/apple-touch-icon.png", "", "missing", 6.0)
    add("GET", "/apple-touch-icon-precomposed.png", "", "missing", 4.0)
    for probe in PROBES:
        add("GET", probe, "", "missing", 0.0, 0.0, 30.0)
    for rank, slug in enumerate(slugs(rng, 400), 1):  # products taken off the catalogue
        add("GET", f"/products/{slug}-{4000 + rank}", "", "gone", 40.0 / 400, 6.0 / rank ** 0.3)
    for path in MONITOR_PATHS:  # asked for only by the monitors, at their own pace
        add("GET", path, "", "health" if path == "/healthz" else "metrics", 0.0)
    utm = ("?utm_source=newsletter&utm_medium=email", "?utm_source=google&utm_medium=cpc", "?ref=homepage", "?gclid=Cj0KCQ")
    page = CLASS["page"]
    tagged = [(m, p, utm[i % len(utm)], c, h * 0.15, 0.0, 0.0) for i, (m, p, q, c, h, _, _) in enumerate(out)
              if c == page and m == "GET" and not q and i % 5 == 0]
    out.extend(tagged)
    methods, paths, queries, classes, *weights = zip(*out)
    return Routes(list(methods), list(paths), list(queries), np.array(classes, np.int16), np.array(weights))
