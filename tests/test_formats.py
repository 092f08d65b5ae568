"""Every log format against its strict parser (tests/strict.py): good lines
parse, corrupted lines are caught and counted as the factory reports them,
output is reproducible and compresses like real logs, and the simulated
traffic keeps its shape (sessions, bots, status tied to path)."""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import replace
from functools import lru_cache

import pytest

from generators import FORMATS
from generators.baddata import OVERSIZED_LIMIT, SYNTACTIC
from generators.factory import LineFactory, LineSpec
from generators.world import BOTS, build_world
from tests.strict import PARSERS, Record, Reject

GOOD_LINES = 100_000
BAD_LINES = 40_000  # the share's standard error is 0.25 points: the ±1.5 bound is safe
SEED = 11


@pytest.fixture(scope="module", params=FORMATS)
def fmt(request):
    """The format under test. Module scope groups the tests by format, so the
    cached factories and parsed lines of one format serve all its tests and
    are dropped before the next format's."""
    yield request.param
    factory.cache_clear()
    good_records.cache_clear()


def test_every_format_has_a_parser():
    assert set(PARSERS) == set(FORMATS)


@lru_cache(maxsize=None)
def factory(spec: LineSpec) -> LineFactory:
    """Built once per spec: batch i depends only on the spec and i."""
    return LineFactory(spec)


def render(spec: LineSpec, lines: int, first_batch: int = 0) -> tuple[list[bytes], Counter]:
    made = factory(spec)
    out: list[bytes] = []
    bad: Counter = Counter()
    batch = first_batch
    while len(out) < lines:
        rendered = made.render(batch)
        out += rendered.data.splitlines(keepends=True)
        bad.update(rendered.bad)
        batch += 1
    return out, bad


@lru_cache(maxsize=None)
def good_records(fmt: str) -> tuple[Record, ...]:
    lines, bad = render(LineSpec(format=fmt, seed=SEED), GOOD_LINES)
    assert not bad
    parse = PARSERS[fmt]
    return tuple(parse(line) for line in lines)


def test_good_lines_parse_and_never_go_back_in_time(fmt):
    records = good_records(fmt)  # raises Reject on the first bad line
    times = [r.time for r in records]
    assert all(a <= b for a, b in zip(times, times[1:]))


def test_bad_data_share_and_counts_match_the_checks(fmt):
    parse = PARSERS[fmt]
    # The stream continues from a clean first batch, so that even the first
    # corrupted line has a predecessor to go back from.
    clean, _ = render(LineSpec(format=fmt, seed=SEED), 1)
    latest = parse(clean[-1]).time
    lines, reported = render(LineSpec(format=fmt, seed=SEED, baddata=40), BAD_LINES, first_batch=1)
    found = Counter()
    for line in lines:
        try:
            record = parse(line)
        except Reject:
            found["rejected"] += 1
            continue
        if len(line) > OVERSIZED_LIMIT:
            found["oversized"] += 1
        if record.time < latest:
            found["time_backwards"] += 1
        else:
            latest = record.time
    assert found["rejected"] == sum(reported[k] for k in SYNTACTIC)
    assert found["time_backwards"] == reported["time_backwards"]
    assert found["oversized"] == reported["oversized"]
    assert set(reported) == set(SYNTACTIC) | {"time_backwards", "oversized"}  # every kind occurs
    share = 100 * sum(found.values()) / len(lines)
    assert 38.5 <= share <= 41.5


def test_same_seed_same_bytes_other_seed_other_bytes(fmt):
    def data(made: LineFactory) -> bytes:
        return b"".join(made.render(i).data for i in (0, 7))

    spec = LineSpec(format=fmt, seed=SEED, baddata=40)  # corruption is reproducible too
    assert data(LineFactory(spec)) == data(factory(spec))
    assert data(LineFactory(replace(spec, seed=SEED + 1))) != data(factory(spec))


def test_output_compresses_like_real_logs(fmt):
    # gzip's window is 32 KiB: the ratio settles long before 100,000 lines.
    lines = 1_000_000 if fmt == "apache" else 100_000
    made = factory(LineSpec(format=fmt, seed=SEED))
    raw = compressed = 0
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # what gzip -6 does
    for i in range(lines // made.spec.batch_lines):
        data = made.render(i).data
        raw += len(data)
        compressed += len(packer.compress(data))
    compressed += len(packer.flush())
    assert 4 <= raw / compressed <= 20


def skip_without_agent(fmt: str) -> None:
    if fmt == "apache_common":
        pytest.skip("the common log format has no user agent")


def bot_share(spec: LineSpec) -> float:
    lines, _ = render(spec, 10_000)
    markers = [b"Googlebot", b"bingbot", b"YandexBot", b"AhrefsBot", b"SemrushBot", b"DuckDuckBot",
               b"facebookexternalhit", b"curl/", b"python-requests/", b"Go-http-client/", b"Prometheus/", b"kube-probe/"]
    assert len(markers) == len(BOTS)
    return sum(any(m in line for m in markers) for line in lines) / len(lines)


def test_bot_share_flag_changes_the_share_of_bot_agents(fmt):
    skip_without_agent(fmt)
    default = LineSpec(format=fmt, seed=SEED)
    assert default.bot_share < 0.1
    few, many = bot_share(default), bot_share(replace(default, bot_share=0.5))
    assert few < 0.15 < 0.3 < many


def test_a_client_keeps_its_user_agent(fmt):
    skip_without_agent(fmt)
    agents: dict[str, set[str]] = {}
    for record in good_records(fmt):
        agents.setdefault(record.ip, set()).add(record.agent)
    assert len(set(build_world(SEED).client_ips)) == len(build_world(SEED).client_ips)
    assert all(len(a) == 1 for a in agents.values())
    assert len(agents) > 1000  # many clients, not a handful


PROBES = ("/wp-login.php", "/.env", "/xmlrpc.php", "/.git/config", "/phpmyadmin/")


def test_status_is_tied_to_the_path(fmt):
    probes = Counter(r.status for r in good_records(fmt) if r.path in PROBES)
    logins = Counter(r.status for r in good_records(fmt) if r.method == "POST" and r.path == "/login")
    assert probes and set(probes) <= {403, 404}
    assert logins and set(logins) <= {200, 302, 401, 429}
    assert logins.most_common(1)[0][0] == 302
