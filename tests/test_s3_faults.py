"""The S3 sink under faults, against real moto servers: a producer killed in
the middle of a multipart upload, the S3 server killed mid-run, and the
cleanup that aborts what a dead producer left unfinished (and nothing else)."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from sinks import s3
from tests.fixtures.aws import ENV, UNSET, MotoServer, free_port, generated, sink_options, start_server, stop_server, unique
from tests.fixtures.common import ROOT

RATE = 50_000  # lines/s, about 12 MB/s: a 100,000-line object (about 24 MB, 5 parts) takes 2 s to fill
RUN_BOUND = 15.0  # seconds from a producer's death to the end of the run (about 2 s here)
SERVER_DEATH_BOUND = 60.0  # seconds from the S3 server's death to the end of the run
CLEANUP_BOUND = 15.0  # seconds for a cleanup that cannot reach S3 (short timeouts: about 0.1 s here)


def uploads(client: Any, bucket: str) -> list[dict]:
    return client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def wait_for(what: str, found: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := found()):
        assert time.monotonic() < deadline, f"no {what} after {seconds:.0f} s"
        time.sleep(0.05)
    return value


def child_named(pid: int, name: str) -> int | None:
    """The PID of the child of `pid` whose /proc comm is `name` (the run names its children by role)."""
    for children in glob.glob(f"/proc/{pid}/task/*/children"):
        for child in Path(children).read_text().split():
            try:
                if Path(f"/proc/{child}/comm").read_text().strip() == name:
                    return int(child)
            except OSError:
                pass  # it ended meanwhile
    return None


def start_run(url: str, bucket: str, results: Path, *flags: str) -> subprocess.Popen:
    """`logstorm run` into `bucket` at `url`, paced at RATE, with dummy credentials."""
    env = {key: value for key, value in os.environ.items() if key not in UNSET} | ENV | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "harness", "run", "--sink", "s3", "--bucket", bucket, "--prefix", "faults",
               "--part-size", "5", "--endpoint-url", url, "--rate", str(RATE), "--results", str(results), "-q", *flags]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ended(run: subprocess.Popen, since: float, bound: float) -> str:
    """The run's stderr, once it has ended, no later than `bound` seconds after `since`."""
    try:
        _, stderr = run.communicate(timeout=max(1.0, since + bound - time.monotonic()))
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail(f"the run was still going {bound:.0f} s later")
    return stderr.decode()


def result_of(results: Path) -> dict:
    [path] = (results / "adhoc").glob("*.json")
    return json.loads(path.read_text())


def assert_counts_add_up(result: dict) -> None:
    [sink] = result["sinks"]
    # unsent and in_doubt may still be missing from result files being extended
    # elsewhere: .get keeps this test meaningful before and after.
    parts = sink["delivered"] + sink["failed"] + sink.get("unsent", 0) + sink.get("in_doubt", 0)
    assert result["totals"]["generated"] == parts, sink


def test_a_producer_killed_mid_upload_ends_the_run_and_leaves_no_unfinished_upload(moto_server, s3_bucket, tmp_path):
    client = moto_server.client("s3")
    run = start_run(moto_server.url, s3_bucket, tmp_path, "--lines", "500000", "--linecount", "100000")
    try:
        producer = wait_for("producer-s3-0", lambda: child_named(run.pid, "producer-s3-0"), 30)
        wait_for("multipart upload in progress", lambda: uploads(client, s3_bucket), 20)
        os.kill(producer, signal.SIGKILL)
        killed = time.monotonic()
    finally:
        stderr = ended(run, time.monotonic(), 60)
    assert time.monotonic() - killed < RUN_BOUND
    assert run.returncode == 1, stderr
    assert "producer-s3-0: killed by signal SIGKILL" in stderr
    assert "s3: aborted 1 unfinished multipart upload\n" in stderr
    assert uploads(client, s3_bucket) == []
    assert_counts_add_up(result_of(tmp_path))


def test_the_s3_server_killed_mid_run_ends_the_run_with_every_line_counted(tmp_path):
    process, url = start_server(tmp_path / "moto.log")  # this test's own: it gets killed
    try:
        client = MotoServer(url=url, env=dict(ENV)).client("s3")
        bucket = unique("killed")
        client.create_bucket(Bucket=bucket)
        run = start_run(url, bucket, tmp_path, "--lines", "2000000", "--linecount", "30000")
        wait_for("complete object", lambda: client.list_objects_v2(Bucket=bucket).get("KeyCount"), 30)
        process.kill()
        process.wait(timeout=10)
        killed = time.monotonic()
        stderr = ended(run, killed, SERVER_DEATH_BOUND)
    finally:
        stop_server(process)
    assert run.returncode == 1, stderr
    assert "s3: could not look for unfinished multipart uploads: cannot reach S3 bucket" in stderr
    result = result_of(tmp_path)
    assert result["sinks"][0]["delivered"] > 0 and result["sinks"][0]["failed"] > 0
    assert_counts_add_up(result)


def test_cleanup_aborts_this_runs_unfinished_uploads_and_no_others(aws_env, s3_bucket):
    client = aws_env.client("s3")
    ours = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo", "--endpoint-url", aws_env.url)
    other_run = sink_options(s3, "--bucket", s3_bucket, "--prefix", "demo", "--endpoint-url", aws_env.url)
    keys = [s3.object_key(ours, 3, 0), s3.object_key(other_run, 3, 0), "elsewhere/p003-00000000.log"]
    made = {key: client.create_multipart_upload(Bucket=s3_bucket, Key=key)["UploadId"] for key in keys}

    assert s3.cleanup(ours) == "aborted 1 unfinished multipart upload"
    assert sorted(upload["Key"] for upload in uploads(client, s3_bucket)) == sorted(keys[1:])
    assert s3.cleanup(ours) is None
    for key in keys[1:]:
        client.abort_multipart_upload(Bucket=s3_bucket, Key=key, UploadId=made[key])


def test_cleanup_that_cannot_reach_s3_says_so_in_one_line(aws_env):
    url = f"http://127.0.0.1:{free_port()}"
    options = sink_options(s3, "--bucket", "b", "--endpoint-url", url)
    started = time.monotonic()
    said = s3.cleanup(options)
    assert time.monotonic() - started < CLEANUP_BOUND
    assert said.startswith("could not look for unfinished multipart uploads: cannot reach S3 bucket 'b': ")
    assert url in said and "\n" not in said


def test_an_upload_close_cannot_complete_in_time_is_aborted_and_its_lines_fail(aws_env, s3_bucket):
    batches = generated(30_000)  # about 7 MB: one 5 MiB part goes up while sending, the rest waits for close
    options = sink_options(s3, "--bucket", s3_bucket, "-c", "50000", "--part-size", "5", "--endpoint-url", aws_env.url)
    sink = s3.create(options, 0, 1)
    sink.open()
    for i, batch in enumerate(batches):
        sink.send(batch.data, batch.lines, float(i))
    client = aws_env.client("s3")
    assert len(uploads(client, s3_bucket)) == 1 and sink.poll() == []

    acks = sink.close(0.0)
    assert [(ack.delivered, ack.failed, ack.reason) for ack in acks] == [(0, 30_000, s3.CLOSE_TIMED_OUT)]
    assert uploads(client, s3_bucket) == []
    assert client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0


def test_cleanup_says_what_it_left_when_its_time_is_up(aws_env, s3_bucket, monkeypatch):
    client = aws_env.client("s3")
    options = sink_options(s3, "--bucket", s3_bucket, "--endpoint-url", aws_env.url)
    key = s3.object_key(options, 0, 0)
    upload = client.create_multipart_upload(Bucket=s3_bucket, Key=key)["UploadId"]
    monkeypatch.setattr(s3, "CLEANUP_SECONDS", 0.0)  # up once the uploads are listed
    assert s3.cleanup(options) == "aborted 0 of 1 unfinished multipart upload; left: 1 cleanup's 0 s were up"
    client.abort_multipart_upload(Bucket=s3_bucket, Key=key, UploadId=upload)
