"""Kafka throughput: logstorm against kcat and a plain confluent-kafka loop.

    python tests/bench/kafka_vs_kcat.py [--lines 1000000]

Each measurement gets a FRESH embedded broker (Tansu keeps every message in
memory and slows down as it fills), started and stopped by this script:

  kcat          kcat -P -l on a pre-generated apache file (Debian's kcat,
                run on the librdkafka the confluent-kafka wheel bundles:
                Debian's is too old for Tansu)
  python loop   the same file, one produce() with a delivery callback per
                line, the way most Python producers run (librdkafka defaults,
                poll(0) every 1,000 lines: a kind baseline)
  sink          the same file through sinks/kafka.py in this one process,
                send() of 64 KiB chunks: the sink's own ceiling
  logstorm      `logstorm run --lines N --generators 2 --sink kafka`, wall
                time of the whole command, generation included

Not a pytest test: it takes a minute and wants the machine to itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from generators.factory import LineFactory, LineSpec  # noqa: E402
from harness.servers.kafka import EmbeddedBroker  # noqa: E402

ORIGINAL_README = 103_000  # msg/s the replaced tool's README gives for its Kafka streaming
CHUNK = 64 * 1024


def write_lines(path: Path, lines: int) -> None:
    factory = LineFactory(LineSpec(seed=42))
    with open(path, "wb") as out:
        index = 0
        while lines > 0:
            batch = factory.render(index, min(lines, factory.spec.batch_lines))
            out.write(batch.data)
            lines -= batch.lines
            index += 1


def wheel_librdkafka(folder: Path) -> Path:
    """A folder holding the wheel's librdkafka as librdkafka.so.1, for LD_LIBRARY_PATH."""
    import confluent_kafka

    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka-*.so.1"))
    if not found:
        raise SystemExit(f"no bundled librdkafka in {libs}")
    (folder / "librdkafka.so.1").symlink_to(found[0])
    return folder


def time_kcat(bootstrap: str, path: Path, libdir: Path) -> float:
    kcat = shutil.which("kcat")
    if kcat is None:
        raise RuntimeError("kcat is not installed (apt-get install -y kcat)")
    env = {**os.environ, "LD_LIBRARY_PATH": str(libdir)}
    started = time.perf_counter()
    subprocess.run([kcat, "-P", "-b", bootstrap, "-t", "topicA", "-l", str(path)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def time_python_loop(bootstrap: str, lines: list[bytes]) -> float:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    delivered, failed = [0], [0]

    def on_delivery(error, message) -> None:
        if error is None:
            delivered[0] += 1
        else:
            failed[0] += 1

    started = time.perf_counter()
    for n, line in enumerate(lines):
        while True:
            try:
                producer.produce("topicB", line, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.01)
        if n % 1000 == 0:
            producer.poll(0)
    producer.flush(120)
    seconds = time.perf_counter() - started
    if delivered[0] != len(lines):
        raise RuntimeError(f"python loop delivered {delivered[0]:,} of {len(lines):,} ({failed[0]:,} failed)")
    return seconds


def chunks(data: bytes) -> list[tuple[bytes, int]]:
    """The file as 64 KiB runs of whole lines, with their line counts."""
    out, offset = [], 0
    while offset < len(data):
        stop = data.find(b"\n", offset + CHUNK) + 1 or len(data)
        out.append((data[offset:stop], data.count(b"\n", offset, stop)))
        offset = stop
    return out


def time_sink(bootstrap: str, pieces: list[tuple[bytes, int]], flags: list[str]) -> float:
    from sinks import kafka

    parser = argparse.ArgumentParser()
    kafka.add_arguments(parser)
    options = kafka.options(parser.parse_args(["--broker", bootstrap, "--topic", "topicD", *flags]))
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    acks = []
    started = time.perf_counter()
    for piece, count in pieces:
        sink.send(piece, count, time.time())
        acks += sink.poll(0)
    acks += sink.close(120)
    seconds = time.perf_counter() - started
    delivered, failed = sum(a.delivered for a in acks), sum(a.failed for a in acks)
    if failed or delivered != sum(count for _, count in pieces):
        raise RuntimeError(f"sink delivered {delivered:,}, failed {failed:,}")
    return seconds


def time_logstorm(bootstrap: str, lines: int, flags: list[str]) -> tuple[float, str]:
    """Wall seconds of the whole command, and its own summary line."""
    command = [sys.executable, "-m", "harness", "run", "--format", "apache", "--lines", str(lines), "--generators", "2",
               "--sink", "kafka", "--broker", bootstrap, "--topic", "topicC", "-q", *flags]
    if not (ROOT / "harness" / "cli" / "run.py").exists():
        raise RuntimeError("`logstorm run` does not exist yet")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"`logstorm run` failed (status {result.returncode}): {result.stderr.strip()[-300:]}")
    if f"{lines:,} delivered, 0 failed" not in result.stderr:
        raise RuntimeError(f"`logstorm run` did not report {lines:,} delivered: {result.stderr.strip()[-300:]}")
    summary = next((line for line in result.stderr.splitlines() if line.startswith("run ") and " lines in " in line), "")
    return seconds, f"its own figure, start-up excluded: {summary.split(': ', 1)[-1]}"


def on_fresh_broker(measure, *args):
    with EmbeddedBroker() as broker:
        return measure(broker.bootstrap, *args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--compression", default=None,
                        help="passed to logstorm's sink and run (default: logstorm's own default, lz4); "
                             "kcat and the Python loop always use librdkafka's default, none")
    args = parser.parse_args()
    n = args.lines
    with tempfile.TemporaryDirectory(prefix="logstorm-bench-") as tmp:
        path = Path(tmp) / "apache.log"
        write_lines(path, n)
        data = path.read_bytes()
        lines = data.splitlines()
        print(f"{n:,} apache lines, {len(data) / n:.0f} bytes each on average; a fresh broker per measurement; "
              f"logstorm compression: {args.compression or 'its default'}\n")
        rates: dict[str, float] = {}
        notes: dict[str, str] = {}
        (Path(tmp) / "lib").mkdir()
        libdir = wheel_librdkafka(Path(tmp) / "lib")
        pieces = chunks(data)
        flags = ["--compression", args.compression] if args.compression else []
        measures = {
            "kcat -P -l": lambda: on_fresh_broker(time_kcat, path, libdir),
            "python loop, callback per message": lambda: on_fresh_broker(time_python_loop, lines),
            "logstorm sink, 1 process (ceiling)": lambda: on_fresh_broker(time_sink, pieces, flags),
            "logstorm run, 2 generators": lambda: on_fresh_broker(time_logstorm, n, flags),
        }
        for name, measure in measures.items():
            try:
                outcome = measure()
            except (RuntimeError, subprocess.CalledProcessError) as error:
                notes[name] = str(error)
                print(f"{name:38} not measured: {error}")
                continue
            seconds, detail = outcome if isinstance(outcome, tuple) else (outcome, "")
            rates[name] = n / seconds
            print(f"{name:38} {rates[name]:>10,.0f} msg/s  ({seconds:.2f} s){'; ' + detail if detail else ''}")
    print()
    ours = rates.get("logstorm run, 2 generators")
    loop = rates.get("python loop, callback per message")
    kcat = rates.get("kcat -P -l")
    sink = rates.get("logstorm sink, 1 process (ceiling)")
    if ours and loop:
        print(f"logstorm / python loop   {ours / loop:.2f}  (target >= 1.0)")
    if ours and kcat:
        print(f"logstorm / kcat          {ours / kcat:.2f}  (target >= 0.6)")
    if ours:
        print(f"logstorm / 103,000 msg/s {ours / ORIGINAL_README:.2f}  (the replaced tool's README figure)")
    if sink and loop:
        print(f"sink ceiling / python loop {sink / loop:.2f}")
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())
