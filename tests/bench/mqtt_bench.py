"""MQTT: the logstorm sink against `mosquitto_pub -l` at QoS 1 (one message
per line, each acknowledged), on one fresh mosquitto, the same lines, one
run each; target >= 1.0x.

    python tests/bench/mqtt_bench.py [--lines 200000]

Every side is timed from its start until a subscriber (`mosquitto_sub -C N`,
subscribed before) has received all N lines. mosquitto_pub 2.0.11 exits at
the end of its input with most of its queue unsent (here it had sent 34,485
of 100,000 lines), so its input is a pipe held open until the subscriber has
them all; timing the command alone would credit it with lines it never sent.

  mosquitto_pub -l  the C client reading the lines from a pipe
  sink              sinks/mqtt.py driven as a producer process drives it
  stream mqtt       `stream mqtt --port P --topic T FILE`, the whole command

Not a pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from broker_bench import lines_file, report, sink_rate, stream_rate

from harness.servers.mosquitto import Mosquitto
from tests.fixtures.aws import sink_options

SUBSCRIBED = 0.5  # for mosquitto_sub to connect and subscribe before the first line


def subscriber(port: str, topic: str, lines: int) -> subprocess.Popen:
    """mosquitto_sub that exits once it has received `lines` messages."""
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-q", "1", "-C", str(lines)],
                           stdout=subprocess.DEVNULL)
    time.sleep(SUBSCRIBED)
    return sub


def until_arrived(port: str, topic: str, lines: int, publish) -> float:
    """Lines/s from calling publish() until a subscriber has every line."""
    sub = subscriber(port, topic, lines)
    began = time.perf_counter()
    publish()
    sub.wait(timeout=600)
    return lines / (time.perf_counter() - began)


def mosquitto_pub(port: str, path: Path, lines: int) -> float:
    sub = subscriber(port, "bench/pub", lines)
    began = time.perf_counter()
    pub = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t", "bench/pub", "-l"],
                           stdin=subprocess.PIPE)
    pub.stdin.write(path.read_bytes())
    pub.stdin.flush()
    sub.wait(timeout=600)
    took = time.perf_counter() - began
    pub.stdin.close()
    pub.wait(timeout=60)
    return lines / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    import sinks.mqtt as mqtt

    with tempfile.TemporaryDirectory() as folder, Mosquitto() as broker:
        path, batches = lines_file(args.lines, Path(folder))
        port = str(broker.port)
        options = sink_options(mqtt, "--port", port, "--topic", "bench/sink")
        rows = [("mosquitto_pub -l -q 1 (until a subscriber has them all)", mosquitto_pub(port, path, args.lines)),
                ("sink (in-process, QoS 1, --in-flight 5000)",
                 until_arrived(port, "bench/sink", args.lines, lambda: sink_rate(mqtt, options, batches))),
                ("stream mqtt FILE (QoS 1), the whole command",
                 until_arrived(port, "bench/stream", args.lines,
                               lambda: stream_rate("mqtt", "--port", port, "--topic", "bench/stream", str(path))))]
    report(f"MQTT, {args.lines:,} Apache lines, one fresh mosquitto", rows, rows[0][1], 1.0)


if __name__ == "__main__":
    main()
