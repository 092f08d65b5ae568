"""RabbitMQ: the logstorm sink against a plain pika loop with publisher
confirms (BlockingChannel.confirm_delivery, one basic_publish at a time),
on one fresh rabbitmq-server, the same lines, one run each; target >= 1.5x.

    python tests/bench/rabbitmq_bench.py [--lines 50000]

  pika loop        what a user writes first: each publish waits for its confirm
  sink             sinks/rabbitmq.py driven as a producer process drives it
  stream rabbitmq  `stream rabbitmq --url URL --queue Q FILE`, the whole command

Each side publishes to its own durable queue (mandatory, non-persistent). Not
a pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from broker_bench import lines_file, report, sink_rate, stream_rate

from harness.servers.rabbitmq import RabbitMQ
from tests.fixtures.aws import sink_options


def pika_loop(url: str, queue: str, path: Path) -> float:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    channel.confirm_delivery()
    values = path.read_bytes().splitlines()
    began = time.perf_counter()
    for value in values:
        channel.basic_publish("", queue, value, mandatory=True)
    took = time.perf_counter() - began
    connection.close()
    return len(values) / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    import sinks.rabbitmq as rabbitmq

    with tempfile.TemporaryDirectory() as folder, RabbitMQ() as server:
        path, batches = lines_file(args.lines, Path(folder))
        baseline = pika_loop(server.url, "bench-pika", path)
        options = sink_options(rabbitmq, "--url", server.url, "--queue", "bench-sink")
        rows = [("pika loop, a confirm per publish", baseline),
                ("sink (in-process, --in-flight 2000)", sink_rate(rabbitmq, options, batches)),
                ("stream rabbitmq FILE", stream_rate("rabbitmq", "--url", server.url, "--queue", "bench-stream",
                                                     str(path)))]
    report(f"RabbitMQ, {args.lines:,} Apache lines, one fresh server", rows, baseline, 1.5)


if __name__ == "__main__":
    main()
