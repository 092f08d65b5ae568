"""S3 as a source, against a real (moto) S3 server."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest
import zstandard

from harness.sources.s3 import check_s3_source, s3_chunks
from harness.errors import UserError
from sinks import s3
from tests.fixtures.aws import deliver, generated, sink_options
from tests.fixtures.common import run_cli


def test_replaying_a_prefix_the_sink_wrote_gives_the_same_100000_lines(aws_env, s3_bucket):
    batches = generated(100_000)
    options = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo/", "--linecount", "10000",
                           "--compression", "gzip", "--endpoint-url", aws_env.url)
    deliver(s3, options, batches)

    url = f"s3://{s3_bucket}/demo/"
    check_s3_source(url, aws_env.url)
    chunks = [bytes(chunk) for chunk in s3_chunks(url, aws_env.url, chunk_bytes=256 << 10)]
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    data = b"".join(chunks)
    assert data.count(b"\n") == 100_000
    assert data == b"".join(batch.data for batch in batches)


def test_objects_are_read_in_key_order_and_decompressed_by_suffix(aws_env, s3_bucket):
    client = aws_env.client("s3")
    objects = {
        "mix/a.log.bz2": bz2.compress(b"a1\na2\n"),
        "mix/b.xz": lzma.compress(b"b1\nb2"),  # no newline at the end: it gets one
        "mix/c.log": b"c1\n",
        "mix/d.zst": zstandard.ZstdCompressor().compress(b"d1\n") + zstandard.ZstdCompressor().compress(b"d2\n"),
        "mix/e.log.gz": gzip.compress(b"e1\n") + gzip.compress(b"e2\n"),  # two gzip members, as `cat` makes
        "mix/folder/": b"",  # a "folder" marker: not an object of lines
        "other/x.log": b"not under the prefix\n",
    }
    for key, body in reversed(objects.items()):
        client.put_object(Bucket=s3_bucket, Key=key, Body=body)

    data = b"".join(bytes(chunk) for chunk in s3_chunks(f"s3://{s3_bucket}/mix/", aws_env.url))
    assert data == b"a1\na2\nb1\nb2\nc1\nd1\nd2\ne1\ne2\n"


def test_chunks_hold_whole_lines_even_when_smaller_than_a_line(aws_env, s3_bucket):
    lines = b"".join(b"%d %s\n" % (n, b"x" * (n % 37)) for n in range(500))
    aws_env.client("s3").put_object(Bucket=s3_bucket, Key="lines.log", Body=lines)
    chunks = [bytes(chunk) for chunk in s3_chunks(f"s3://{s3_bucket}/", aws_env.url, chunk_bytes=16)]
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks) == lines


def test_aws_endpoint_url_from_the_environment(aws_env, s3_bucket, monkeypatch):
    aws_env.client("s3").put_object(Bucket=s3_bucket, Key="one.log", Body=b"line\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env.url)
    check_s3_source(f"s3://{s3_bucket}/one")
    assert list(s3_chunks(f"s3://{s3_bucket}/one")) == [b"line\n"]


def test_a_damaged_object_is_named(aws_env, s3_bucket):
    aws_env.client("s3").put_object(Bucket=s3_bucket, Key="bad.log.gz", Body=b"this is not gzip\n")
    with pytest.raises(UserError, match=rf"cannot decompress s3://{s3_bucket}/bad.log.gz"):
        list(s3_chunks(f"s3://{s3_bucket}/", aws_env.url))


@pytest.mark.parametrize("url, message", [
    ("s3://no-such-bucket-here/logs/", "S3 bucket 'no-such-bucket-here' does not exist"),
    ("http://example.com/logs", "'http://example.com/logs' is not an S3 location like s3://bucket/prefix"),
    ("s3:///logs", "'s3:///logs' is not an S3 location like s3://bucket/prefix"),
])
def test_bad_sources_fail_the_check_in_one_line(aws_env, url, message):
    with pytest.raises(UserError) as error:
        check_s3_source(url, aws_env.url)
    assert str(error.value) == message


def test_an_empty_prefix_fails_the_check(aws_env, s3_bucket):
    aws_env.client("s3").put_object(Bucket=s3_bucket, Key="logs/", Body=b"")
    with pytest.raises(UserError, match=rf"^no objects under s3://{s3_bucket}/logs/$"):
        check_s3_source(f"s3://{s3_bucket}/logs/", aws_env.url)


def test_stream_replays_an_s3_prefix_into_a_file_sink(aws_env, s3_bucket, tmp_path):
    batches = generated(100_000)
    options = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo/", "--linecount", "10000",
                           "--compression", "gzip", "--endpoint-url", aws_env.url)
    deliver(s3, options, batches)

    done = run_cli("stream", "file", "--path", str(tmp_path / "out"), "--endpoint-url", aws_env.url, "-q",
                   f"s3://{s3_bucket}/demo/")
    assert done.returncode == 0, done.stderr.decode()
    [written] = (tmp_path / "out").iterdir()
    assert written.read_bytes() == b"".join(batch.data for batch in batches)


def test_stream_refuses_an_empty_s3_prefix_in_one_line(aws_env, s3_bucket):
    done = run_cli("stream", "null", "--endpoint-url", aws_env.url, f"s3://{s3_bucket}/nothing/")
    assert done.returncode == 2
    assert done.stderr.decode() == f"stream: error: no objects under s3://{s3_bucket}/nothing/\n"
