"""What the RabbitMQ and MQTT benchmarks share (tests/bench/rabbitmq_bench.py,
tests/bench/mqtt_bench.py): the same lines for every side, the sink driven
as a producer process drives it, and `stream SINK FILE` as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.aws import generated  # noqa: E402

SUMMARY = re.compile(r"\(([\d,]+) lines/s\)")


def lines_file(lines: int, folder: Path) -> tuple[Path, list]:
    """`lines` Apache lines in a file and as batches: every side sends the same."""
    batches = generated(lines, seed=1)
    path = folder / "lines.log"
    path.write_bytes(b"".join(batch.data for batch in batches))
    return path, batches


def sink_rate(module: ModuleType, options: Any, batches: list) -> float:
    """Lines/s of the sink driven as a producer does: open, send every batch, close."""
    module.check(options)
    sink = module.create(options, 0, 1)
    sink.open()
    began = time.perf_counter()
    acks = []
    for i, batch in enumerate(batches):
        sink.send(batch.data, batch.lines, float(i))
        acks += sink.poll()
    acks += sink.close(120.0)
    took = time.perf_counter() - began
    lines = sum(batch.lines for batch in batches)
    delivered = sum(a.delivered for a in acks)
    assert delivered == lines, f"{module.NAME}: {delivered:,} of {lines:,} delivered: {acks[-1:]}"
    return lines / took


def stream_rate(*args: str, env: dict[str, str] | None = None) -> float:
    """The lines/s that `stream ARGS` reports (from the first line sent to the last delivered)."""
    command = [sys.executable, "-c", "from harness.cli.main import stream; stream()", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    found = SUMMARY.search(done.stderr)
    assert done.returncode == 0 and found, done.stderr
    return float(found.group(1).replace(",", ""))


def timed(command: list[str], stdin: Path) -> float:
    """Seconds `command` takes, its stdin from a file."""
    with open(stdin, "rb") as source:
        began = time.perf_counter()
        subprocess.run(command, stdin=source, check=True, timeout=600)
        return time.perf_counter() - began


def report(title: str, rows: list[tuple[str, float]], baseline: float, target: float) -> None:
    """Each row with its ratio to the first, and whether the best of the others meets `target`."""
    print(title)
    for name, rate in rows:
        print(f"  {name:58} {rate:>10,.0f} lines/s  {rate / baseline:5.2f}x")
    best = max(rate for _, rate in rows[1:]) / baseline
    print(f"  target >= {target:g}x: {'met' if best >= target else 'NOT met'} ({best:.2f}x)")
