"""AWS throughput against a local moto server: lines/s to S3 and to Kinesis.

    python tests/bench/aws_throughput.py [--s3-lines 500000] [--kinesis-lines 20000]
                                         [--producers 1,2] [--kinesis-producers 1]

The script starts its own moto server (stopped by PID at the end) and uses a
fresh bucket or 4-shard stream per measurement:

  sink api  the sink modules driven the way producer processes drive them:
            P spawned processes, each check/create/open, send() of 4,096-line
            batches rendered beforehand, close(); wall time from all ready to
            all closed
  stream    `stream s3|kinesis -P N FILE` on a pre-generated file: the lines/s
            of its own summary (process start-up included)

moto is the limit here, not logstorm (FIELD-NOTES: S3 put about 45-50 MiB/s,
Kinesis about 1,000 records/s as shipped, slowing as a stream grows). moto's
Kinesis also loses records under concurrent PutRecords calls, so Kinesis with
several producers measures speed only. Not a pytest test: it takes a minute or
two and wants the machine to itself.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.aws import ENV, MotoServer, generated, sink_options, start_server, stop_server  # noqa: E402

SUMMARY = re.compile(rb"\(([\d,]+) lines/s\)")


def producer(module_name: str, options_: Any, index: int, producers: int, lines: int, ready: Any, done: Any) -> None:
    """One producer process: render its share first, then deliver it when all are ready."""
    import importlib

    module = importlib.import_module(module_name)
    batches = generated(lines, seed=index)
    sink = module.create(options_, index, producers)
    sink.open()
    ready.wait()
    acks = []
    for i, batch in enumerate(batches):
        sink.send(batch.data, batch.lines, float(i))
        acks += sink.poll()
    acks += sink.close(60.0)
    done.put((sum(a.delivered for a in acks), sum(a.failed for a in acks)))


def via_api(module_name: str, argv: list[str], lines: int, producers: int) -> tuple[float, int, int]:
    """Seconds, delivered, failed for `lines` lines over `producers` processes."""
    import importlib

    module = importlib.import_module(module_name)
    options_ = sink_options(module, *argv)  # once, as the supervisor does: one run id for all
    module.check(options_)
    spawn = multiprocessing.get_context("spawn")
    ready, done = spawn.Barrier(producers + 1), spawn.Queue()
    shares = [lines // producers + (p < lines % producers) for p in range(producers)]
    processes = [spawn.Process(target=producer, args=(module_name, options_, p, producers, shares[p], ready, done))
                 for p in range(producers)]
    for process in processes:
        process.start()
    try:
        ready.wait(timeout=600)  # every producer has rendered its lines and opened its sink
    except threading.BrokenBarrierError:
        raise SystemExit("a producer process did not get ready: see its traceback above") from None
    started = time.perf_counter()
    results = [done.get(timeout=600) for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    return seconds, sum(r[0] for r in results), sum(r[1] for r in results)


def via_stream(sink: str, argv: list[str], path: Path, producers: int) -> int:
    """lines/s that `stream SINK ... -P N FILE` reports."""
    done = subprocess.run([sys.executable, "-c", "from harness.cli.main import stream; stream()", sink, *argv,
                           "-P", str(producers), "-q", str(path)], capture_output=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    found = SUMMARY.search(done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"stream {sink} failed: {done.stderr.decode()[-800:]}")
    return int(found.group(1).replace(b",", b""))


def fresh_bucket(server: MotoServer) -> str:
    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    server.client("s3").create_bucket(Bucket=bucket)
    return bucket


def drop_bucket(server: MotoServer, bucket: str) -> None:
    client = server.client("s3")
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    client.delete_bucket(Bucket=bucket)


def fresh_stream(server: MotoServer) -> str:
    client = server.client("kinesis")
    stream = f"bench-{uuid.uuid4().hex[:10]}"
    client.create_stream(StreamName=stream, ShardCount=4)
    client.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return stream


def drop_stream(server: MotoServer, stream: str) -> None:
    server.client("kinesis").delete_stream(StreamName=stream, EnforceConsumerDeletion=True)


def show(what: str, lines: int, seconds: float, delivered: int | None = None, failed: int = 0) -> None:
    counts = f" ({delivered:,} delivered, {failed:,} failed)" if delivered is not None else ""
    print(f"  {what:42} {lines:>9,} lines {seconds:7.2f} s {lines / seconds:>10,.0f} lines/s{counts}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--s3-lines", type=int, default=500_000)
    parser.add_argument("--kinesis-lines", type=int, default=20_000)
    parser.add_argument("--producers", default="1,2", help="producer counts for S3, comma-separated")
    parser.add_argument("--kinesis-producers", default="1", help="producer counts for Kinesis (see the note on moto)")
    args = parser.parse_args()
    os.environ.update(ENV)
    counts = [int(n) for n in args.producers.split(",")]
    kinesis_counts = [int(n) for n in args.kinesis_producers.split(",")]

    with tempfile.TemporaryDirectory() as folder:
        process, url = start_server(Path(folder) / "moto.log")
        server = MotoServer(url=url, env=dict(ENV))
        try:
            data = b"".join(batch.data for batch in generated(args.s3_lines))
            (Path(folder) / "s3.log").write_bytes(data)
            (Path(folder) / "kinesis.log").write_bytes(b"".join(b.data for b in generated(args.kinesis_lines)))
            print(f"moto server {url}; {os.cpu_count()} CPUs; S3 input {len(data) / (1 << 20):.0f} MiB", flush=True)
            for compression in ("none", "gzip", "zstd"):
                for producers in counts:
                    bucket = fresh_bucket(server)
                    argv = ["--bucket", bucket, "--linecount", "10000", "--compression", compression, "--endpoint-url", url]
                    seconds, delivered, failed = via_api("sinks.s3", argv, args.s3_lines, producers)
                    show(f"s3 {compression} sink api P={producers}", args.s3_lines, seconds, delivered, failed)
                    drop_bucket(server, bucket)
            for producers in counts:
                bucket = fresh_bucket(server)
                rate = via_stream("s3", ["--bucket", bucket, "--linecount", "10000", "--endpoint-url", url],
                                  Path(folder) / "s3.log", producers)
                show(f"s3 none `stream s3` P={producers}", args.s3_lines, args.s3_lines / rate)
                drop_bucket(server, bucket)
            for producers in kinesis_counts:
                stream = fresh_stream(server)
                seconds, delivered, failed = via_api("sinks.kinesis", ["--stream", stream, "--endpoint-url", url],
                                                     args.kinesis_lines, producers)
                show(f"kinesis 4 shards sink api P={producers}", args.kinesis_lines, seconds, delivered, failed)
                drop_stream(server, stream)
                stream = fresh_stream(server)
                rate = via_stream("kinesis", ["--stream", stream, "--endpoint-url", url],
                                  Path(folder) / "kinesis.log", producers)
                show(f"kinesis 4 shards `stream kinesis` P={producers}", args.kinesis_lines, args.kinesis_lines / rate)
                drop_stream(server, stream)
        finally:
            stop_server(process)


if __name__ == "__main__":
    main()
