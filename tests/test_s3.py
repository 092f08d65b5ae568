"""The S3 sink against a real (moto) S3 server, driven like a producer drives it."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import time

import pytest
import zstandard

from harness.errors import UserError
from sinks import s3
from tests.fixtures.aws import deliver, free_port, generated, sink_options, unique
from tests.fixtures.common import ROOT, run_cli

KEY = re.compile(r"demo/(?P<day>\d{4}/\d\d/\d\d)/(?P<run>\d{8}T\d{6}Z-[0-9a-f]{6})"
                 r"-p(?P<producer>\d{3})-(?P<seq>\d{8})\.log(?P<suffix>\.gz|\.zst)?")
DECODE = {"none": lambda body: body, "gzip": gzip.decompress,
          "zstd": lambda body: zstandard.ZstdDecompressor().decompressobj().decompress(body)}
CHECK_BOUND = 10.0  # seconds: the acceptance bound for a failing start-up check, far above the usual 0.1 s


def objects(client, bucket: str) -> list[dict]:
    return [item for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])]


def body(client, bucket: str, key: str) -> dict:
    return client.get_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_100000_lines_make_10_objects_that_concatenate_to_the_input(aws_env, s3_bucket, compression):
    batches = generated(100_000)
    options = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo", "--linecount", "10000",
                           "--compression", compression, "--endpoint-url", aws_env.url)
    acks = deliver(s3, options, batches)

    client = aws_env.client("s3")
    listed = objects(client, s3_bucket)
    assert len(listed) == 10
    keys = [item["Key"] for item in listed]
    assert all(KEY.fullmatch(key) and ":" not in key for key in keys)
    assert {KEY.fullmatch(key)["suffix"] or "" for key in keys} == {s3.COMPRESSIONS[compression][0][4:]}
    got = [body(client, s3_bucket, key) for key in keys]
    assert {reply.get("ContentEncoding") for reply in got} == {s3.COMPRESSIONS[compression][1]}
    contents = [DECODE[compression](reply["Body"].read()) for reply in got]
    assert [part.count(b"\n") for part in contents] == [10_000] * 10
    assert b"".join(contents) == b"".join(batch.data for batch in batches)
    # One ack per object; its intended time is that of the object's oldest line
    # (batch i is sent at intended time i and holds 4096 lines).
    assert [(ack.delivered, ack.failed) for ack in acks] == [(10_000, 0)] * 10
    assert [ack.intended for ack in acks] == [float(k * 10_000 // 4096) for k in range(10)]


def test_objects_larger_than_a_part_go_up_as_multipart_uploads(aws_env, s3_bucket):
    batches = generated(100_000)  # about 24 MB: two objects of about 12 MB, parts of 8 MiB
    options = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo/", "-c", "50000",
                           "--endpoint-url", aws_env.url)
    acks = deliver(s3, options, batches)

    client = aws_env.client("s3")
    listed = objects(client, s3_bucket)
    assert [item["ETag"].strip('"').rsplit("-", 1)[-1] for item in listed] == ["2", "2"]  # 2 parts each
    data = b"".join(body(client, s3_bucket, item["Key"])["Body"].read() for item in listed)
    assert data == b"".join(batch.data for batch in batches)
    assert sum(ack.delivered for ack in acks) == 100_000


def test_keys_sort_by_run_then_producer_then_sequence(aws_env, s3_bucket):
    batches = generated(4096)
    first = sink_options(s3, "--bucket", s3_bucket, "--prefix", "/demo", "-c", "1000", "--endpoint-url", aws_env.url)
    for producer in (1, 0):  # two producers of one run share its options, so its run id
        deliver(s3, first, batches, producer=producer, producers=2)
    later = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo/", "-c", "1000", "--endpoint-url", aws_env.url)
    deliver(s3, later, batches)

    keys = [item["Key"] for item in objects(aws_env.client("s3"), s3_bucket)]  # S3 lists in key order
    names = [KEY.fullmatch(key) for key in keys]
    assert first.run_id != later.run_id and len(set(keys)) == 15
    assert all(name["day"].replace("/", "") == name["run"][:8] for name in names)
    ours = [(name["producer"], name["seq"]) for name in names if name["run"] == first.run_id]
    assert ours == [(p, f"{seq:08d}") for p in ("000", "001") for seq in range(5)]  # 4 x 1000 lines + 96 each
    runs = [name["run"] for name in names]
    assert runs == sorted(runs)  # one run's objects are together


def test_the_remainder_goes_up_at_close(aws_env, s3_bucket):
    batches = generated(5000)  # linecount 3000: one full object, then 2000 lines at close
    options = sink_options(s3, "--bucket", s3_bucket, "-c", "3000", "--endpoint-url", aws_env.url)
    acks = deliver(s3, options, batches)
    assert [(ack.delivered, ack.intended) for ack in acks] == [(3000, 0.0), (2000, 0.0)]
    assert len(objects(aws_env.client("s3"), s3_bucket)) == 2


@pytest.mark.parametrize("linecount", ["10000", "50000"])  # single puts, multipart uploads
def test_failed_uploads_count_their_lines_failed_with_the_error_code(aws_env, linecount):
    bucket = unique("vanishing")
    client = aws_env.client("s3")
    client.create_bucket(Bucket=bucket)
    options = sink_options(s3, "--bucket", bucket, "-c", linecount, "--endpoint-url", aws_env.url)
    s3.check(options)
    sink = s3.create(options, 0, 1)
    sink.open()
    client.delete_bucket(Bucket=bucket)  # gone after the check: every upload fails
    batches = generated(60_000)
    for i, batch in enumerate(batches):
        sink.send(batch.data, batch.lines, float(i))
    acks = sink.poll() + sink.close(10.0)
    assert sum(ack.failed for ack in acks) == 60_000
    assert {ack.reason for ack in acks} == {"NoSuchBucket"}
    assert sum(ack.delivered for ack in acks) == 0


def test_a_missing_bucket_fails_the_check_in_one_line(aws_env):
    options = sink_options(s3, "--bucket", "no-such-bucket-here", "--endpoint-url", aws_env.url)
    started = time.monotonic()
    with pytest.raises(UserError) as error:
        s3.check(options)
    assert time.monotonic() - started < CHECK_BOUND
    assert str(error.value) == "S3 bucket 'no-such-bucket-here' does not exist"


def test_an_unreachable_endpoint_fails_the_check(aws_env):
    url = f"http://127.0.0.1:{free_port()}"
    options = sink_options(s3, "--bucket", "b", "--endpoint-url", url)
    with pytest.raises(UserError, match=rf"cannot reach S3 bucket 'b': .*{url}"):
        s3.check(options)


def test_no_credentials_fail_the_check(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    options = sink_options(s3, "--bucket", "b", "--endpoint-url", aws_env.url)
    with pytest.raises(UserError, match="no AWS credentials found"):
        s3.check(options)


def test_aws_endpoint_url_from_the_environment(aws_env, s3_bucket, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env.url)
    options = sink_options(s3, "--bucket", s3_bucket, "-c", "4096")
    acks = deliver(s3, options, generated(4096))
    assert [ack.delivered for ack in acks] == [4096]


def test_the_secret_key_never_shows(aws_env, monkeypatch):
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    shown = []
    for endpoint in (aws_env.url, f"http://127.0.0.1:{free_port()}"):
        options = sink_options(s3, "--bucket", "no-such-bucket-here", "--endpoint-url", endpoint)
        sink = s3.create(options, 0, 1)
        sink.open()
        with pytest.raises(UserError) as error:
            s3.check(options)
        shown += [repr(options), repr(vars(sink)), str(error.value)]
    assert not any(secret in text for text in shown)


@pytest.mark.parametrize("argv", [["--bucket", "b", "--linecount", "0"], ["--bucket", "b", "--compression", "lz4"],
                                  ["--bucket", "b", "--part-size", "4"], ["--prefix", "p"]])
def test_bad_flags_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        sink_options(s3, *argv)
    assert exit.value.code == 2


def test_stream_s3_writes_a_file_as_objects_of_linecount_lines(aws_env, s3_bucket, tmp_path):
    data = b"".join(batch.data for batch in generated(100_000))
    (tmp_path / "in.log").write_bytes(data)
    done = run_cli("stream", "s3", "--bucket", s3_bucket, "--prefix", "P", "--linecount", "10000",
                   "--endpoint-url", aws_env.url, "-q", str(tmp_path / "in.log"))
    assert done.returncode == 0, done.stderr.decode()
    client = aws_env.client("s3")
    keys = [item["Key"] for item in objects(client, s3_bucket)]
    assert len(keys) == 10 and all(key.startswith("P/") for key in keys)
    assert b"".join(body(client, s3_bucket, key)["Body"].read() for key in keys) == data


@pytest.mark.parametrize("argv, message", [
    (["--bucket", "no-such-bucket-here"], "S3 bucket 'no-such-bucket-here' does not exist"),
    (["--bucket", "b", "--endpoint-url", "not-a-url"], "AWS configuration: Invalid endpoint: not-a-url"),
])
def test_stream_s3_refuses_a_bad_target_in_one_line(aws_env, argv, message):
    argv = argv if "--endpoint-url" in argv else argv + ["--endpoint-url", aws_env.url]
    done = run_cli("stream", "s3", *argv, "/dev/null", timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode() == f"stream: error: {message}\n"


def test_aws_modules_load_boto3_only_when_used():
    # `stream --help` and non-AWS runs import the sink modules; importing boto3 takes about 0.15 s.
    code = ("import sys, argparse, sinks.s3, sinks.kinesis, harness.sources.s3\n"
            "sinks.s3.add_arguments(argparse.ArgumentParser())\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert done.stdout == b"[]\n", done.stderr.decode()
