"""--tag: each format's lines carry the run id and line number where the
format has room, stay valid for its parser, and are found again."""

from __future__ import annotations

import functools
import json
import re

import pytest

from generators.factory import LineFactory, LineSpec
from generators.tag import Tagger, find

FORMATS = ("apache", "apache_common", "nginx", "alb", "cloudfront", "cloudflare", "json", "syslog")
RUN = "0a1b2c3d"
# What a parser of each format reads, to show the tagged line is still one of its lines.
REQUEST = re.compile(rb'"[A-Z]+ (\S+) HTTP/[\d.]+"')


@functools.cache
def tagged(format: str, first: int = 1000, baddata: float = 0.0) -> tuple[bytes, bytes]:
    """(the lines, the same lines tagged): built once per format, a world takes a moment to make."""
    batch = LineFactory(LineSpec(format=format, seed=3, baddata=baddata)).render(0, 500)
    return batch.data, Tagger(format, RUN)(batch.data, first)


@pytest.mark.parametrize("format", FORMATS)
def test_every_line_is_found_with_its_run_wide_number(format):
    _, data = tagged(format)
    found = find(data, RUN)
    assert found.lines == list(range(1000, 1500)) and found.untagged == 0 and found.other_runs == 0


@pytest.mark.parametrize("format", FORMATS)
def test_the_tagged_line_stays_valid_for_its_format(format):
    plain, data = tagged(format)
    for n, (before, after) in enumerate(zip(plain.splitlines(), data.splitlines()), start=1000):
        token = f"ls-{RUN}-{n}"
        if format in ("cloudflare", "json"):
            assert json.loads(after) == {"logstorm_id": token, **json.loads(before)}
        elif format == "cloudfront":
            query = after.split(b"\t")[11].decode()
            assert len(after.split(b"\t")) == len(before.split(b"\t"))
            assert query == f"lsid={token}" or query.endswith(f"&lsid={token}")
        elif format == "syslog":
            assert after.split(b" ")[:6] == before.split(b" ")[:6]
            assert after.split(b" ", 6)[6].startswith(f'[logstorm@32473 id="{token}"]'.encode())
        else:
            url = REQUEST.search(after).group(1).decode()
            assert url.endswith(f"?lsid={token}") or url.endswith(f"&lsid={token}"), url
            assert REQUEST.sub(b"", after) == REQUEST.sub(b"", before)


def test_bad_lines_are_tagged_too():
    _, data = tagged("apache", baddata=50.0)
    assert find(data, RUN).lines == list(range(1000, 1500))


def test_lines_of_another_run_and_untagged_lines_are_counted_apart():
    _, ours = tagged("apache")
    theirs = Tagger("apache", "ffffffff")(b"a \"GET / HTTP/1.1\" 200\n", 0)
    found = find(ours + theirs + b"no tag here\n", RUN)
    assert (len(found.lines), found.other_runs, found.untagged) == (500, 1, 1)


def test_tagging_is_deterministic():
    assert tagged.__wrapped__("nginx") == tagged("nginx")
