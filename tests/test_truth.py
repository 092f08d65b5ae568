"""`generate --truth FILE` (and `logstorm run --truth`): one line per bad
line (number, kind, hash of its bytes), the same whatever -P is, readable
back by harness.report.truth."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from harness.report.truth import BadTruth, as_sent, line_hash, read_truth
from tests.fixtures.common import run_cli

LINES = 10_000


def generate(tmp_path, *extra: str, name: str = "out") -> tuple[list[bytes], list[list[bytes]], str]:
    out, truth = tmp_path / f"{name}.log", tmp_path / f"{name}.truth"
    result = run_cli("generate", "-l", "nginx", "-i", str(LINES), "-b", "40", "-s", "9", "-o", str(out),
                     "--truth", str(truth), *extra)
    assert result.returncode == 0, result.stderr
    rows = [row.split() for row in truth.read_bytes().splitlines() if not row.startswith(b"#")]
    return out.read_bytes().split(b"\n")[:-1], rows, result.stderr.decode()


def test_each_bad_line_is_named_by_number_kind_and_hash(tmp_path):
    lines, rows, summary = generate(tmp_path)
    assert rows and [int(n) for n, _, _ in rows] == sorted(int(n) for n, _, _ in rows)
    for number, _, digest in rows:
        assert line_hash(lines[int(number) - 1]) == digest
    counts = Counter(kind.decode() for _, kind, _ in rows)
    for kind, count in counts.items():
        assert re.search(rf"\b{kind} {count:,}\b", summary), (kind, summary)
    assert 0.37 * LINES < len(rows) < 0.43 * LINES


def test_the_truth_is_the_same_whatever_the_process_count(tmp_path):
    _, alone, _ = generate(tmp_path, name="one")
    _, together, _ = generate(tmp_path, "-P", "3", name="three")
    assert alone == together


def test_read_back_counts_kinds_and_knows_each_hash(tmp_path):
    lines, rows, _ = generate(tmp_path)
    truth = read_truth(str(tmp_path / "out.truth"))
    assert truth.totals.total() == len(rows) and "format=nginx seed=9 baddata=40" in truth.about
    assert truth.kind_of[line_hash(lines[int(rows[0][0]) - 1])] == rows[0][1].decode()


def test_a_file_that_is_not_a_truth_file_is_refused(tmp_path):
    other = tmp_path / "x.log"
    other.write_bytes(b"1.2.3.4 - - [x] \"GET / HTTP/1.1\" 200 1\n")
    with pytest.raises(BadTruth, match="not a logstorm truth file"):
        read_truth(str(other))


def test_an_unwritable_truth_file_is_one_line_and_exit_2(tmp_path):
    result = run_cli("generate", "-i", "10", "--truth", str(tmp_path / "missing" / "t.truth"))
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "t.truth" in result.stderr.decode()


def test_a_tagged_batch_is_named_by_the_bytes_sent():
    marks = [(1, "junk", b"GET /b")]
    assert as_sent(marks, b"GET /a?lsid=ls-1-0\nGET /b?lsid=ls-1-1\n") == [(1, "junk", b"GET /b?lsid=ls-1-1")]


def test_an_unwritable_truth_file_of_a_run_is_one_line_and_exit_2(tmp_path):
    result = run_cli("run", "-n", "10", "-b", "50", "--truth", str(tmp_path / "missing" / "t.truth"), "-q")
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "t.truth" in result.stderr.decode()


def test_a_truth_file_is_refused_for_a_run_on_a_cluster(tmp_path):
    result = run_cli("run", "-n", "10", "--cluster", "ray", "--truth", str(tmp_path / "t.truth"), "-q")
    assert result.returncode == 2 and b"--truth" in result.stderr and result.stderr.count(b"\n") == 1
    assert not (tmp_path / "t.truth").exists()
