"""Kafka side by side on Apache Kafka, the reference broker: logstorm
against the two producers Kafka people reach for first, from one run.

    python tests/bench/apache_side_by_side.py [--lines 1000000,5000000] [--repeat 2] [--broker apache|tansu]

The machinery is tests/bench/side_by_side.py's: whole commands (start-up
included) on a fresh broker each (here a single-node KRaft Apache Kafka,
started before the clock starts), the same pre-generated apache file, lz4
and acks=all on every side, every topic counted back by an independent
consumer (kcat -C), best of --repeat, the commands taking turns. The rows:

  kafka-producer-perf-test  ProducerPerformance from kafka-tools (the Java
                            client), --payload-file of the same lines (the
                            file's first 100,000: it holds its payloads in
                            memory), compression.type=lz4, acks=all,
                            batch.size 1 MiB (librdkafka's default, as kcat and
                            logstorm use); linger.ms left at its default
  kcat -P -l -z lz4         Debian's kcat on its own librdkafka (2.0.2), which
                            talks to Apache Kafka (not to Tansu)
  logstorm stream kafka FILE
  logstorm run, 1 generator logstorm run --lines N --sink kafka

Ratios are to the faster of kcat and kafka-producer-perf-test. `--broker
tansu` runs the same rows on the embedded broker (kcat then on the wheel's
librdkafka, as side_by_side.py does; no kafka-producer-perf-test row: the
Java client hangs against Tansu), so the two tables show how much the
broker moves the figures. Not a pytest test: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness.servers import apache_kafka  # noqa: E402
from harness.errors import UserError  # noqa: E402
from tests.bench.side_by_side import TOPIC, Bench, in_turns  # noqa: E402

PAYLOAD_LINES = 100_000
PERF_TEST = "kafka-producer-perf-test"
KCAT = "kcat -P -l -z lz4"
STREAM = "logstorm stream kafka FILE"
PERF_JVM = ("-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true")  # kafka-run-class.sh's


class ApacheBench(Bench):
    broker = apache_kafka.ApacheKafka

    def __init__(self, folder: Path, lines: int, kind: str) -> None:
        super().__init__(folder, lines)
        if kind == "apache":
            self.kcat_env = dict(os.environ)  # Debian's kcat as shipped: its own librdkafka
        else:
            self.broker = Bench.broker
        self.payloads = folder / "payloads.log"
        with open(self.file, "rb") as source, open(self.payloads, "wb") as out:
            out.writelines(islice(source, PAYLOAD_LINES))
        self.log_config = folder / "log4j2.properties"
        self.log_config.write_text(apache_kafka.LOG_CONFIG)

    def commands(self) -> dict:
        ours = super().commands()
        n = str(self.lines)
        rows = {
            PERF_TEST: lambda b: apache_kafka.java_command(
                "org.apache.kafka.tools.ProducerPerformance", "--topic", TOPIC, "--num-records", n,
                "--payload-file", str(self.payloads), "--throughput", "-1", "--command-property",
                f"bootstrap.servers={b}", "acks=all", "compression.type=lz4", "batch.size=1048576",
                log_config=self.log_config, flags=PERF_JVM),
            KCAT: ours[KCAT],
            STREAM: ours[STREAM],
            "logstorm run, 1 generator": ours["logstorm run, 1 generator"],
        }
        if self.broker is Bench.broker:
            del rows[PERF_TEST]  # the Java client 4.4 never finishes against Tansu 0.6: it waits on metadata for ever
        return rows


def table(bench: ApacheBench, repeat: int, kind: str) -> None:
    print(f"\n{bench.lines:,} lines ({bench.file.stat().st_size / bench.lines:.0f} bytes each) into "
          f"{'Apache Kafka ' + apache_kafka.VERSION if kind == 'apache' else 'Tansu (embedded)'}, best of {repeat}, "
          "lz4, acks=all, a fresh broker each, counted back")
    best, _ = in_turns(bench.once, bench.commands(), repeat)
    references = [best[name][0] for name in (KCAT, PERF_TEST) if isinstance(best.get(name), tuple)]
    faster = max(references, default=0.0)
    for name, result in best.items():
        if isinstance(result, str):
            print(f"  {name:28} not measured: {result}")
            continue
        ratio = f"{result[0] / faster:.2f}x the faster" if faster else ""
        print(f"  {name:28} {result[0]:>10,.0f} lines/s  {ratio:17}  {result[1]:5.2f} CPU s per 1M lines")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="1000000,5000000", help="comma-separated sizes (default 1000000,5000000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each command; the best counts (default 2)")
    parser.add_argument("--broker", choices=("apache", "tansu"), default="apache", help="the broker (default apache)")
    args = parser.parse_args()
    if shutil.which("kcat") is None:
        raise SystemExit("kcat is not installed (apt-get install -y kcat): it is a row and the counter")
    try:
        apache_kafka.fetch()
    except UserError as error:
        raise SystemExit(f"apache_side_by_side: {error}") from None
    with tempfile.TemporaryDirectory(prefix="logstorm-bench-") as tmp:
        for lines in (int(n) for n in args.lines.split(",")):
            folder = Path(tmp) / str(lines)
            (folder / "lib").mkdir(parents=True)
            table(ApacheBench(folder, lines, args.broker), args.repeat, args.broker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
