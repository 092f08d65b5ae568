"""MQTT: the logstorm sink against `mosquitto_pub -l` at QoS 1 (one message
per line of a file, each acknowledged), on one fresh mosquitto, the same
lines, one run each; target >= 1.0x.

    python tests/bench/mqtt_bench.py [--lines 200000]

  mosquitto_pub -l  the C client reading the file: wall time of the command
  sink              sinks/mqtt.py driven as a producer process drives it
  stream mqtt       `stream mqtt --port P --topic T FILE`, the whole command

Not a pytest test: it wants the machine to itself.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from broker_bench import lines_file, report, sink_rate, stream_rate, timed

from harness.servers.mosquitto import Mosquitto
from tests.fixtures.aws import sink_options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    import sinks.mqtt as mqtt

    with tempfile.TemporaryDirectory() as folder, Mosquitto() as broker:
        path, batches = lines_file(args.lines, Path(folder))
        port = str(broker.port)
        seconds = timed(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t", "bench/pub", "-l"], path)
        baseline = args.lines / seconds
        options = sink_options(mqtt, "--port", port, "--topic", "bench/sink")
        rows = [("mosquitto_pub -l -q 1", baseline),
                ("sink (in-process, QoS 1, --in-flight 5000)", sink_rate(mqtt, options, batches)),
                ("stream mqtt FILE (QoS 1)", stream_rate("mqtt", "--port", port, "--topic", "bench/stream", str(path)))]
    report(f"MQTT, {args.lines:,} Apache lines, one fresh mosquitto", rows, baseline, 1.0)


if __name__ == "__main__":
    main()
