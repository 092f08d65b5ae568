"""The read-back's tally and readers without a pipeline: what counts as
seen, missing, duplicated, out of order and untagged, latency from the
pacer's intended time, and a file read as it grows; and a read-back of
the S3 objects the s3 sink wrote (a real moto server)."""

from __future__ import annotations

import json

import pytest

from generators.tag import Found, Tagger, find
from harness.errors import UserError
from harness.load.pacing import Pacer
from harness.load.schedule import constant
from harness.readback.readers import FileReader
from harness.readback.tally import Tally
from harness.readback.target import parse

RUN = "0a1b2c3d"


def lines(*numbers: int, run: str = RUN) -> bytes:
    return b"".join(b'1.2.3.4 - - [x] "GET /?lsid=ls-%s-%d HTTP/1.1" 200 1\n' % (run.encode(), n) for n in numbers)


@pytest.mark.parametrize("reads, expected, report", [
    ([(0, 1, 2, 3)], 4, {"seen": 4, "missing": 0, "duplicated": 0, "out_of_order": 0, "first_missing": []}),
    ([(0, 2), (3,)], 5, {"seen": 3, "missing": 2, "first_missing": [1, 4]}),
    ([(0, 1), (1, 2)], 3, {"seen": 3, "duplicated": 1}),
    ([(0, 2, 1, 3)], 4, {"out_of_order": 1}),
    ([(5,), (4,)], 6, {"out_of_order": 1, "missing": 4}),
])
def test_tally(reads, expected, report):
    tally = Tally()
    for numbers in reads:
        tally.add("file", find(lines(*numbers), RUN), 0.0)
    summary = tally.summary(expected)
    assert {key: summary[key] for key in report} == report


def test_order_is_kept_per_stream_not_across_partitions():
    tally = Tally()
    tally.add(0, find(lines(2, 3), RUN), 0.0)
    tally.add(1, find(lines(0, 1), RUN), 0.0)
    assert tally.summary(4)["out_of_order"] == 0


def test_untagged_and_other_runs_are_counted_not_ignored():
    tally = Tally()
    tally.add("f", find(lines(0) + lines(7, run="ffffffff") + b"rewritten\n", RUN), 0.0)
    summary = tally.summary(1)
    assert (summary["seen"], summary["untagged"], summary["other_runs"]) == (1, 1, 1)


def test_latency_is_arrival_minus_the_pacers_intended_time_of_each_line():
    pacer = Pacer(100.0, constant(1000.0))  # line n is due at 100 + n/1000
    tally = Tally(pacer.due_at)
    latencies = tally.add("f", Found([0, 500], 0, 0), 101.0)
    assert latencies.tolist() == [1_000_000, 500_000]
    assert Tally().add("f", Found([0], 0, 0), 1.0).tolist() == []  # unpaced: no intended time


def test_the_file_reader_reads_what_is_appended_after_it_opened_in_whole_lines(tmp_path):
    path = tmp_path / "out.log"
    path.write_bytes(b"from an earlier run\n")
    reader = FileReader(str(path))
    assert reader.read(0.0) == []
    with path.open("ab") as file:
        file.write(b"one\ntw")
    assert reader.read(0.0) == [(str(path), b"one\n", 1)]
    with path.open("ab") as file:
        file.write(b"o\n")
    assert reader.read(0.0) == [(str(path), b"two\n", 1)]


def test_a_file_that_does_not_exist_yet_is_waited_for(tmp_path):
    reader = FileReader(str(tmp_path / "later.log"))
    assert reader.read(0.0) == []
    (tmp_path / "later.log").write_bytes(Tagger("apache", RUN)(b'a "GET / HTTP/1.1" 200\n', 0))
    assert find(reader.read(0.0)[0][1], RUN).lines == [0]


@pytest.mark.parametrize("url", ["ftp://x/y", "kafka://broker", "kafka:///topic", "file://", "s3://"])
def test_bad_urls_are_refused_by_name(url):
    with pytest.raises(UserError, match="--read-back"):
        parse(url, RUN)


def test_the_plan_shows_the_read_back(cli, tmp_path):
    done = cli("plan", "--sink", "null", "--read-back", f"file://{tmp_path}/x.log")
    assert b"read-back" in done.stdout and b"lines seen, missing" in done.stdout, done.stderr


@pytest.mark.slow
def test_read_back_from_s3_objects_the_s3_sink_wrote(cli, aws_env, s3_bucket, tmp_path):
    env = {**aws_env.env, "AWS_ENDPOINT_URL": aws_env.url}
    done = cli("run", "--lines", "10000", "-q", "--sink", "s3", "--bucket", s3_bucket, "--prefix", "rb/", "-c", "2500",
               "--read-back", f"s3://{s3_bucket}/rb/", "--read-back-quiet", "2", "--results", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr.decode()
    found = json.loads(next(tmp_path.glob("adhoc/*.json")).read_text())["read_back"]
    assert (found["seen"], found["missing"], found["duplicated"]) == (10000, 0, 0)


def test_a_profile_read_back_table_with_a_bad_url_names_the_file_and_line(cli, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('[profile]\ndescription = "x"\n[load]\nlines = 10\n\n[[sinks]]\nname = "null"\n\n[read_back]\nurl = "ftp://x/y"\n')
    done = cli("run", str(profile))
    assert done.returncode == 2
    assert f"{profile}:10: --read-back ftp://x/y: expected".encode() in done.stderr, done.stderr


def test_a_profile_with_read_back_and_cluster_tables_is_refused(cli, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('[profile]\ndescription = "x"\n[load]\nlines = 10\n[[sinks]]\nname = "null"\n'
                       '[read_back]\nurl = "file:///tmp/x.log"\n[cluster]\nengine = "ray"\n')
    done = cli("run", str(profile))
    assert done.returncode == 2
    assert f"{profile}:7: [read_back] is for a run on one machine, not with [cluster]".encode() in done.stderr, done.stderr
