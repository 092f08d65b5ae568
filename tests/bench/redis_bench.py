"""Redis Streams: the logstorm sink against `redis-benchmark -P 1000 XADD`
on one fresh redis-server, one run each; target >= 0.5x (Python pays per
line, redis-benchmark is C sending one line over and over).

    python tests/bench/redis_bench.py [--lines 200000]

  redis-benchmark  -P 1000 -n LINES XADD KEY * line <an Apache line>, its requests per second
  sink             sinks/redis.py driven as a producer process drives it
  stream redis     `stream redis --url URL --stream KEY FILE`, the whole command

Each side writes its own key. Not a pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

from broker_bench import lines_file, report, sink_rate, stream_rate

from harness.servers.redis import RedisServer
from tests.fixtures.aws import sink_options

RATE = re.compile(r"([\d.]+) requests per second")


def redis_benchmark(port: int, lines: int, line: bytes) -> float:
    done = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-P", "1000", "-n", str(lines),
                           "-q", "XADD", "bench-redis-benchmark", "*", "line", line.decode()],
                          capture_output=True, text=True, timeout=600, check=True)
    return float(RATE.findall(done.stdout)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    import sinks.redis as redis

    with tempfile.TemporaryDirectory() as folder, RedisServer() as server:
        path, batches = lines_file(args.lines, Path(folder))
        baseline = redis_benchmark(server.port, args.lines, batches[0].data.split(b"\n", 1)[0])
        options = sink_options(redis, "--url", server.url, "--stream", "bench-sink")
        rows = [("redis-benchmark -P 1000 XADD", baseline),
                ("sink (in-process, a pipeline per batch)", sink_rate(redis, options, batches)),
                ("stream redis FILE", stream_rate("redis", "--url", server.url, "--stream", "bench-stream", str(path)))]
    report(f"Redis Streams, {args.lines:,} Apache lines, one fresh server", rows, baseline, 0.5)


if __name__ == "__main__":
    main()
