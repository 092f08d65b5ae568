"""What the generated traffic looks like to an analytics pipeline, measured
on 100,000 lines per property: ids unique per request, no body on HEAD, 204
and 304, browsers and operating systems in published shares (StatCounter
Global Stats, February 2025), monitors and crawlers that behave as they do,
errors where they come from, method shares, Cloudflare's lower-case
countries, and CloudFront's header lines once per file or object."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from functools import lru_cache

import pytest

from generators.factory import LineFactory, LineSpec
from tests.fixtures.common import run_cli
from tests.strict import PARSERS

LINES = 100_000
SEED = 5


@lru_cache(maxsize=None)
def lines(fmt: str) -> tuple[bytes, ...]:
    made = LineFactory(LineSpec(format=fmt, seed=SEED))
    out: list[bytes] = []
    batch = 0
    while len(out) < LINES:
        out += made.render(batch).data.splitlines()
        batch += 1
    return tuple(out[:LINES])


@lru_cache(maxsize=None)
def records(fmt: str) -> tuple:
    parse = PARSERS[fmt]
    return tuple(parse(line + b"\n") for line in lines(fmt))


APACHE = re.compile(rb'^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) (\S+) "[^"]*" "([^"]*)"')


@lru_cache(maxsize=None)
def apache(fmt: str = "apache") -> tuple[tuple[str, str, str, int, str, str], ...]:
    """(ip, method, path, status, size, agent) per line."""
    out = []
    for line in lines(fmt):
        ip, method, target, status, size, agent = APACHE.match(line).groups()
        out.append((ip.decode(), method.decode(), target.split(b"?")[0].decode(), int(status), size.decode(), agent.decode()))
    return tuple(out)


# 1. Identifiers that must be unique

ID_FIELDS = {
    "cloudfront": lambda line: line.split(b"\t")[14],
    "cloudflare": lambda line: re.search(rb'"RayID":"([0-9a-f]{16})"', line)[1],
    "alb": lambda line: re.search(rb'"Root=1-[0-9a-f]{8}-([0-9a-f]{24})"', line)[1],
}


@pytest.mark.parametrize("fmt", ID_FIELDS)
def test_each_request_has_its_own_id(fmt):
    ids = [ID_FIELDS[fmt](line) for line in lines(fmt)]
    assert len(set(ids)) == LINES
    if fmt == "cloudfront":
        assert all(len(i) == 56 and i.endswith(b"==") for i in ids)


# 2. Responses without a body

@pytest.mark.parametrize("fmt", ["apache", "nginx"])
def test_head_204_and_304_have_no_body_size(fmt):
    sizes = Counter()
    for _, method, _, status, size, _ in apache(fmt):
        if method == "HEAD" or status in (204, 304):
            sizes[size] += 1
    assert sum(sizes.values()) > 1000
    assert set(sizes) == ({"-"} if fmt == "apache" else {"0"})
    assert sum(1 for _, method, _, _, _, _ in apache(fmt) if method == "HEAD") > 50


# 3. Browsers and operating systems

BROWSER_RULES = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"), ("UCBrowser/", "UC Browser"),
                 ("YaBrowser/", "Yandex"), ("CriOS/", "Chrome"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                 ("Version/", "Safari"))
OS_RULES = (("iPhone", "iOS"), ("iPad", "iOS"), ("Android", "Android"), ("Windows", "Windows"), ("Macintosh", "macOS"),
            ("CrOS", "ChromeOS"), ("Linux", "Linux"))
# StatCounter Global Stats, worldwide, all platforms, February 2025 (percent).
STATCOUNTER_BROWSERS = {"Chrome": 66, "Safari": 18, "Edge": 5, "Firefox": 3, "Samsung Internet": 2, "Opera": 2}
STATCOUNTER_OS = {"Android": 46, "Windows": 25, "iOS": 18, "macOS": 6}
BOT_MARKERS = ("bot", "Bot", "facebookexternalhit", "curl/", "python-requests/", "Go-http-client/", "Prometheus/", "kube-probe/")


def classify(agent: str, rules) -> str:
    return next((name for marker, name in rules if marker in agent), "other")


def human_agents() -> list[str]:
    return [agent for *_, agent in apache() if not any(m in agent for m in BOT_MARKERS)]


def shares(names: list[str]) -> dict[str, float]:
    counts = Counter(names)
    return {name: 100 * count / len(names) for name, count in counts.items()}


def test_browser_shares_are_within_three_points_of_statcounter():
    got = shares([classify(agent, BROWSER_RULES) for agent in human_agents()])
    for browser, share in STATCOUNTER_BROWSERS.items():
        assert abs(got.get(browser, 0) - share) <= 3, (browser, got)


def test_operating_system_shares_are_within_three_points_of_statcounter():
    got = shares([classify(agent, OS_RULES) for agent in human_agents()])
    for system, share in STATCOUNTER_OS.items():
        assert abs(got.get(system, 0) - share) <= 3, (system, got)
    assert got.get("Linux", 0) < 3


def test_user_agents_are_of_recent_releases():
    chrome = [int(m[1]) for agent in human_agents() if (m := re.search(r"(?:Chrome|CriOS)/(\d+)", agent))]
    firefox = [int(m[1]) for agent in human_agents() if (m := re.search(r"Firefox/(\d+)", agent))]
    assert min(chrome) >= 130 and min(firefox) >= 130  # releases of 2024-2025


# 4. Monitors and crawlers

MONITORS = {"kube-probe/": ("/healthz", 10.0), "Prometheus/": ("/metrics", 15.0)}


@pytest.mark.parametrize("fmt", ["apache", "json"])
def test_monitors_poll_one_path_at_a_fixed_interval_from_private_addresses(fmt):
    for marker, (path, interval) in MONITORS.items():
        polls = [r for r in records(fmt) if marker in r.agent]
        assert polls, marker
        assert {r.path for r in polls} == {path}
        assert all(ipaddress.ip_address(r.ip).is_private for r in polls)
        times = defaultdict(list)
        for r in polls:
            times[r.ip].append(r.time)
        for stamps in times.values():
            gaps = [b - a for a, b in zip(stamps, stamps[1:])]
            assert gaps and all(abs(gap - interval) <= 0.01 for gap in gaps), (marker, gaps)
    private = [r for r in records(fmt) if ipaddress.ip_address(r.ip).is_private]
    assert all(any(m in r.agent for m in MONITORS) for r in private)


def test_googlebot_comes_from_its_published_range_and_crawlers_do_not_shop():
    google = ipaddress.ip_network("66.249.64.0/19")
    crawls = [(ip, path) for ip, _, path, _, _, agent in apache() if "bot" in agent.lower() or "facebookexternalhit" in agent]
    assert all(ipaddress.ip_address(ip) in google for ip, _, _, _, _, agent in apache() if "Googlebot" in agent)
    paths = Counter(path for _, path in crawls)
    assert paths["/robots.txt"] > 0 and any(p.startswith("/sitemap") for p in paths)
    assert not [p for p in paths if p.startswith(("/api/", "/login"))]


# 5. Errors where they come

def test_errors_come_from_missing_urls_and_bursts_not_from_pages_that_exist():
    rows = apache()
    home = Counter(status for _, method, path, status, _, _ in rows if path == "/" and method == "GET")
    assert sum(c for s, c in home.items() if 400 <= s < 500) == 0
    css = Counter(path for _, _, path, _, _, _ in rows if path.endswith(".css")).most_common(1)[0][0]
    assert all(status < 400 for _, _, path, status, _, _ in rows if path == css)
    # 404s fall on paths that never answer 2xx (probes, removed pages, icons).
    succeeded = {path for _, _, path, status, _, _ in rows if status < 300}
    not_found = [path for _, _, path, status, _, _ in rows if status == 404]
    assert sum(path not in succeeded for path in not_found) >= 0.9 * len(not_found)
    # 5xx come in bursts: two of the ten 10-second spans hold most of them.
    failures = Counter(int((r.time - records("apache")[0].time) // 10) for r in records("apache") if r.status >= 500)
    assert sum(failures.values()) > 100
    assert sum(c for _, c in failures.most_common(2)) >= 0.8 * sum(failures.values())


# 6. Methods

def test_get_far_ahead_then_post_and_delete_rare():
    methods = Counter(method for _, method, *_ in apache())
    order = [m for m, _ in methods.most_common()]
    assert order[:2] == ["GET", "POST"]
    assert methods["GET"] > 0.85 * LINES
    assert methods["DELETE"] < min(methods["POST"] / 10, 0.005 * LINES)


# 7. Cloudflare countries

def test_cloudflare_countries_are_lower_case():
    countries = {re.search(rb'"ClientCountry":"([^"]*)"', line)[1] for line in lines("cloudflare")}
    assert len(countries) > 5 and all(re.fullmatch(rb"[a-z]{2}", c) for c in countries)


# 8. CloudFront header lines

def header_lines(data: bytes) -> list[bytes]:
    return [line for line in data.splitlines() if line.startswith(b"#")]


def assert_two_headers_on_top(data: bytes, records: int) -> None:
    head = data.split(b"\n", 2)
    assert head[0] == b"#Version: 1.0" and head[1].startswith(b"#Fields: date time x-edge-location ")
    assert len(head[1].split(b" ")) == 1 + 33
    assert len(header_lines(data)) == 2 and data.count(b"\n") == records + 2


def test_cloudfront_files_start_with_the_two_header_lines_once_each(tmp_path):
    result = run_cli("run", "--format", "cloudfront", "--lines", "25000", "--sink", "file", "--path", str(tmp_path / "out"),
                     "--linecount", "10000", "-q", "--results", str(tmp_path / "results"))
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 3
    for file, records_in in zip(files, (10000, 10000, 5000)):
        assert_two_headers_on_top(file.read_bytes(), records_in)


def test_other_formats_and_streams_get_no_header_lines(tmp_path):
    result = run_cli("run", "--format", "apache", "--lines", "2000", "--sink", "file", "--path", str(tmp_path / "out"),
                     "-q", "--results", str(tmp_path / "results"))
    assert result.returncode == 0, result.stderr
    [file] = (tmp_path / "out").iterdir()
    assert not header_lines(file.read_bytes())
    streamed = run_cli("run", "--format", "cloudfront", "--lines", "2000", "--sink", "stdout", "-q",
                       "--results", str(tmp_path / "results2"))
    assert streamed.returncode == 0 and not header_lines(streamed.stdout)


def test_cloudfront_objects_start_with_the_two_header_lines(aws_env, s3_bucket, tmp_path):
    result = run_cli("run", "--format", "cloudfront", "--lines", "15000", "--sink", "s3", "--bucket", s3_bucket,
                     "--linecount", "10000", "--endpoint-url", aws_env.url, "-q", "--results", str(tmp_path / "results"))
    assert result.returncode == 0, result.stderr
    client = aws_env.client("s3")
    keys = sorted(item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert len(keys) == 2
    for key, records_in in zip(keys, (10000, 5000)):
        assert_two_headers_on_top(client.get_object(Bucket=s3_bucket, Key=key)["Body"].read(), records_in)
