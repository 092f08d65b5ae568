"""Kafka side by side: logstorm's commands against kcat and a plain
confluent-kafka loop, from one run of this script.

    python tests/bench/side_by_side.py [--lines 1000000,5000000] [--repeat 3] [--bin DIR]

Every measurement is a whole command (interpreter start and set-up
included) on a FRESH embedded broker (Tansu keeps every message in memory
and slows as it fills), with the same settings on every side: lz4
compression (logstorm's default), acks=all, the same pre-generated apache
file. Every topic is then counted back by an independent consumer (kcat -C):
a rate counts only if all N lines arrived. Each figure is the best of
--repeat runs, the commands taking turns; ratios are to kcat of the same
size, of the best runs and of the medians.

  kcat              kcat -P -l -z lz4 FILE (Debian's kcat on the librdkafka
                    the confluent-kafka wheel bundles: Debian's is too old for Tansu)
  python loop       produce() per line, no delivery callback, flush at the end
  stream FILE       stream kafka FILE
  generate | stream generate -i N | stream kafka
  run, 1 generator  logstorm run --lines N --generators 1 --sink kafka
  run, 2 generators the same with --generators 2

And generation alone (`--only generation` measures just that):
`logstorm run --sink null --generators 2` against `generate -P 2 >
/dev/null`, the same lines, the two taking turns.

The logstorm commands are this checkout's, run by this interpreter, unless
--bin names an install's folder of console scripts (`python3 -m venv /tmp/v
&& /tmp/v/bin/pip install .`): what a user gets. An interpreter's own `.pth`
files and an editable install's finder run at every start of it (this
machine's base interpreter: about 0.05 s, `startup.py`'s `python -c pass`).

Not a pytest test: it takes minutes and wants the machine to itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness.servers.kafka import EmbeddedBroker, wheel_librdkafka  # noqa: E402

SEED = 42
TOPIC = "bench"
KAFKA_SETTINGS = {"compression.type": "lz4", "acks": "all"}
GENERATION = "generation"  # the name --only knows the generation-alone line by


class Bench:
    broker = EmbeddedBroker  # what once() starts fresh for each measurement (apache_side_by_side.py: Apache Kafka)

    def __init__(self, folder: Path, lines: int, bin_dir: Path | None = None) -> None:
        """`bin_dir`: an install's console scripts and python to measure
        (default: this checkout, with this interpreter)."""
        self.lines = lines
        if bin_dir is None:
            self.python, self.launch = sys.executable, [sys.executable, "-m", "harness"]
            self.env = {**os.environ, "PYTHONPATH": str(ROOT)}
        else:
            self.python, self.launch = str(bin_dir / "python3"), [str(bin_dir / "logstorm")]
            self.env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        self.file = folder / f"apache-{lines}.log"
        with open(self.file, "wb") as out:
            subprocess.run(self.logstorm("generate", "-i", str(lines), "-s", str(SEED)), stdout=out, check=True,
                           stderr=subprocess.DEVNULL, cwd=ROOT, env=self.env)
        self.kcat_env = {**os.environ, "LD_LIBRARY_PATH": str(wheel_librdkafka(folder / "lib"))}

    def logstorm(self, *args: str) -> list[str]:
        return [*self.launch, *args]

    def commands(self) -> dict[str, Callable[[str], list[str] | str | Callable[[], None]]]:
        """What each measurement runs against the broker at `bootstrap`."""
        n, f = str(self.lines), str(self.file)
        return {
            "kcat -P -l -z lz4": lambda b: ["kcat", "-P", "-b", b, "-t", TOPIC, "-l", "-z", "lz4", "-X", "acks=all", f],
            "python loop (confluent-kafka)": lambda b: [self.python, __file__, "--loop", b, f],
            "logstorm stream kafka FILE": lambda b: self.logstorm("stream", "kafka", "--broker", b, "--topic", TOPIC, "-q", f),
            "generate | stream kafka": lambda b: (f"{' '.join(self.logstorm('generate', '-i', n, '-s', str(SEED)))} | "
                                                  f"{' '.join(self.logstorm('stream', 'kafka', '--broker', b, '--topic', TOPIC, '-q'))}"),
            "logstorm run, 1 generator": lambda b: self.logstorm("run", "--lines", n, "--generators", "1", "--sink", "kafka",
                                                            "--broker", b, "--topic", TOPIC, "-q", "--results", "/tmp/logstorm-bench-results"),
            "logstorm run, 2 generators": lambda b: self.logstorm("run", "--lines", n, "--generators", "2", "--sink", "kafka",
                                                             "--broker", b, "--topic", TOPIC, "-q", "--results", "/tmp/logstorm-bench-results"),
        }

    def once(self, name: str, make: Callable[[str], list[str] | str]) -> tuple[float, float] | str:
        """(lines/s, CPU seconds per million lines) of one whole command on a
        fresh broker, or why not. The CPU is the command's own (all its
        processes, the broker's not included): on a shared machine it moves
        less than the wall time, and it says where the time goes."""
        with self.broker() as broker:
            command = make(broker.bootstrap)
            env = self.kcat_env if name.startswith("kcat") else self.env
            before = _children_cpu()
            started = time.perf_counter()
            done = subprocess.run(command, shell=isinstance(command, str), env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            seconds = time.perf_counter() - started
            cpu = _children_cpu() - before
            if done.returncode != 0:
                return f"failed (status {done.returncode}): {done.stderr.strip()[-200:]}"
            arrived = self.count_back(broker.bootstrap)
        if arrived != self.lines:
            return f"{arrived:,} of {self.lines:,} lines arrived"
        return self.lines / seconds, cpu / self.lines * 1e6

    def count_back(self, bootstrap: str) -> int:
        """Messages in the topic, read by kcat from the beginning to the end."""
        done = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", TOPIC, "-o", "beginning", "-e", "-q", "-f", "."],
                              env=self.kcat_env, capture_output=True, timeout=600)
        return len(done.stdout)

    def generation(self, repeat: int) -> tuple[dict[str, tuple[float, float] | str], dict[str, float]]:
        """`run --sink null -g 2` and `generate -P 2 > /dev/null` of the same
        lines, taking turns: in_turns' best and median of each."""
        n = str(self.lines)
        commands = {"run": self.logstorm("run", "--lines", n, "--generators", "2", "--sink", "null", "--seed", str(SEED),
                                         "-q", "--results", "/tmp/logstorm-bench-results"),
                    "generate": self.logstorm("generate", "-i", n, "-P", "2", "-s", str(SEED))}
        return in_turns(self.alone, commands, repeat)

    def alone(self, name: str, command: list[str]) -> tuple[float, float]:
        """(lines/s, CPU seconds per million lines) of a command that needs no broker."""
        before = _children_cpu()
        started = time.perf_counter()
        subprocess.run(command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        seconds = time.perf_counter() - started
        return self.lines / seconds, (_children_cpu() - before) / self.lines * 1e6


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def python_loop(bootstrap: str, path: str) -> None:
    """The plain confluent-kafka producer loop most Python tools run."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, **KAFKA_SETTINGS})
    with open(path, "rb") as lines:
        for line in lines:
            while True:
                try:
                    producer.produce(TOPIC, line[:-1])
                    break
                except BufferError:
                    producer.poll(0.01)
    if producer.flush(120):
        raise SystemExit("python loop: not everything was delivered")


def in_turns(measure: Callable[[str, Any], tuple[float, float] | str], commands: dict,
             repeat: int) -> tuple[dict[str, tuple[float, float] | str], dict[str, float]]:
    """Each command `repeat` times, the commands taking turns, each run
    measured by `measure(name, command)` (Bench.once: on a fresh broker):
    the best run of each (or why none was measured) and the median lines/s
    of each."""
    runs: dict[str, list[tuple[float, float] | str]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, make in commands.items():
            runs[name].append(measure(name, make))
    best: dict[str, tuple[float, float] | str] = {}
    medians: dict[str, float] = {}
    for name, tries in runs.items():
        measured = [r for r in tries if isinstance(r, tuple)]
        best[name] = max(measured) if measured else tries[0]
        if measured:
            medians[name] = statistics.median(rate for rate, _ in measured)
    return best, medians


def table(bench: Bench, repeat: int, only: list[str]) -> None:
    """Each command `repeat` times, the commands taking turns (so that a busy
    or a quiet spell of the machine, which lasts tens of seconds here, hits
    each alike); the best run of each counts, and the ratio of the medians
    is printed beside it."""
    print(f"\n{bench.lines:,} lines ({bench.file.stat().st_size / bench.lines:.0f} bytes each), best of {repeat} "
          "(commands taking turns), lz4, acks=all, a fresh broker each, counted back")
    commands = {name: make for name, make in bench.commands().items() if not only or any(part in name for part in only)}
    best, medians = in_turns(bench.once, commands, repeat)
    kcat, kcat_median = best.get("kcat -P -l -z lz4"), medians.get("kcat -P -l -z lz4")
    for name, rate in best.items():
        if isinstance(rate, str):
            print(f"  {name:32} not measured: {rate}")
            continue
        ratio = f"{rate[0] / kcat[0]:.2f}x kcat" if isinstance(kcat, tuple) else ""
        median = f"(medians {medians[name] / kcat_median:.2f}x)" if kcat_median else ""
        print(f"  {name:32} {rate[0]:>12,.0f} lines/s  {ratio:11} {median:16} {rate[1]:5.2f} CPU s per 1M lines")
    if only and not any(part in GENERATION for part in only):
        return
    best, medians = bench.generation(repeat)
    run, generate = best["run"][0], best["generate"][0]
    print(f"  {GENERATION}: run --sink null -g 2 {run:,.0f} lines/s, generate -P 2 {generate:,.0f} lines/s: "
          f"{run / generate:.2f}x (medians {medians['run'] / medians['generate']:.2f}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="1000000,5000000", help="comma-separated sizes (default 1000000,5000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the best counts (default 3)")
    parser.add_argument("--only", default="", help="comma-separated parts of row names: measure just those rows")
    parser.add_argument("--bin", type=Path, default=None,
                        help="measure the install whose console scripts and python are in BIN (a plain install: "
                             "python3 -m venv V && V/bin/pip install .); default: this checkout")
    parser.add_argument("--loop", nargs=2, metavar=("BOOTSTRAP", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        python_loop(*args.loop)
        return 0
    if shutil.which("kcat") is None:
        raise SystemExit("kcat is not installed (apt-get install -y kcat): it is the ceiling and the counter")
    with tempfile.TemporaryDirectory(prefix="logstorm-bench-") as tmp:
        for lines in (int(n) for n in args.lines.split(",")):
            folder = Path(tmp) / str(lines)
            (folder / "lib").mkdir(parents=True)
            table(Bench(folder, lines, args.bin), args.repeat, [part for part in args.only.split(",") if part])
    return 0


if __name__ == "__main__":
    sys.exit(main())
