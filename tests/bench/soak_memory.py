"""Run the soak profile and sample memory all along: the broker's resident
memory (the Apache Kafka JVM the run started) and the harness's (the
supervisor and every child, proportional set size so shared rings count
once).

    python tests/bench/soak_memory.py [--every 5] [-- extra `logstorm run soak` flags]

Prints one line a minute and a summary: the broker's peak against 2 GB, and
the harness's memory after the first minute against its last sample
("flat" means within 10 %). The samples go to --out as JSON. Not a pytest
test: it runs for 10 minutes and wants the machine to itself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROKER_LIMIT_MB = 2048
FLAT = 0.10


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def field_kb(path: Path, name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sample(run_pid: int) -> tuple[float, float, int]:
    """(broker RSS MB, harness PSS MB, processes) of the run's process tree now."""
    broker = harness = 0
    pids = descendants(run_pid)
    for pid in pids:
        proc = Path(f"/proc/{pid}")
        try:
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "java":
            broker += field_kb(proc / "status", "VmRSS")
        else:
            harness += field_kb(proc / "smaps_rollup", "Pss")
    return broker / 1024, harness / 1024, len(pids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--out", default="soak-memory.json", help="where the samples go (default soak-memory.json)")
    parser.add_argument("extra", nargs="*", help="more flags for `logstorm run soak`, after --")
    args = parser.parse_args()
    command = [sys.executable, "-m", "harness", "run", "soak", "-q", *args.extra]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    samples: list[tuple[float, float, float, int]] = []
    next_print = 60.0
    while run.poll() is None:
        elapsed = time.monotonic() - started
        broker, harness, processes = sample(run.pid)
        samples.append((round(elapsed, 1), round(broker, 1), round(harness, 1), processes))
        if elapsed >= next_print:
            print(f"  {elapsed:5.0f} s  broker RSS {broker:7.0f} MB  harness PSS {harness:6.0f} MB", flush=True)
            next_print += 60
        try:
            run.wait(args.every)
        except subprocess.TimeoutExpired:
            pass
    stderr = run.stderr.read()
    print(stderr, end="")
    Path(args.out).write_text(json.dumps({"command": command, "status": run.returncode, "samples": samples,
                                          "columns": ["seconds", "broker_rss_mb", "harness_pss_mb", "processes"]}))
    summary(samples)
    return run.returncode


def summary(samples: list[tuple[float, float, float, int]]) -> None:
    with_broker = [s for s in samples if s[1] > 0]
    if not with_broker:
        print("no broker process was seen")
        return
    peak = max(s[1] for s in with_broker)
    print(f"broker RSS: peak {peak:,.0f} MB ({'under' if peak < BROKER_LIMIT_MB else 'OVER'} "
          f"{BROKER_LIMIT_MB:,} MB), {len(with_broker)} samples")
    # The harness is judged while it delivers (all its processes up), not
    # during --verify, when only the supervisor is left.
    most = max(s[3] for s in with_broker)
    settled = [s for s in with_broker if s[0] >= 60 and s[3] == most] or with_broker
    first, last = settled[0][2], settled[-1][2]
    change = (last - first) / first if first else 0.0
    print(f"harness PSS while delivering: {first:,.0f} MB after the first minute, {last:,.0f} MB at its end "
          f"({change:+.1%}: {'flat' if abs(change) <= FLAT else 'NOT flat'}), peak {max(s[2] for s in settled):,.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
