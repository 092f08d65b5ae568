"""NATS JetStream: the logstorm sink against a plain nats-py loop that
awaits each publish's JetStream ack (`await js.publish(...)`), on one fresh
nats-server -js, the same lines, one run each; target >= 1.5x.

    python tests/bench/nats_bench.py [--lines 50000]

  nats-py loop  what a user writes first: each publish waits for its ack
  sink          sinks/nats.py driven as a producer process drives it (--window 20,000 in flight)
  stream nats   `stream nats --servers URL --subject S --stream NAME FILE`, the whole command

Each side publishes to its own subject and stream (file storage). Not a
pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from broker_bench import lines_file, report, sink_rate, stream_rate

from harness.servers.nats import NatsServer
from tests.fixtures.aws import sink_options


def nats_loop(url: str, path: Path) -> float:
    import nats

    async def publish_all() -> float:
        nc = await nats.connect(url)
        js = nc.jetstream()
        await js.add_stream(name="BENCH_LOOP", subjects=["bench.loop"])
        values = path.read_bytes().splitlines()
        began = time.perf_counter()
        for value in values:
            await js.publish("bench.loop", value)
        took = time.perf_counter() - began
        await nc.close()
        return len(values) / took

    return asyncio.run(publish_all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    import sinks.nats as nats_sink

    with tempfile.TemporaryDirectory() as folder, NatsServer() as server:
        path, batches = lines_file(args.lines, Path(folder))
        baseline = nats_loop(server.url, path)
        options = sink_options(nats_sink, "--servers", server.url, "--subject", "bench.sink", "--stream", "BENCH_SINK")
        rows = [("nats-py loop, await js.publish per line", baseline),
                ("sink (in-process, --window 20000)", sink_rate(nats_sink, options, batches)),
                ("stream nats FILE", stream_rate("nats", "--servers", server.url, "--subject", "bench.stream",
                                                 "--stream", "BENCH_STREAM", str(path)))]
    report(f"NATS JetStream, {args.lines:,} Apache lines, one fresh server", rows, baseline, 1.5)


if __name__ == "__main__":
    main()
