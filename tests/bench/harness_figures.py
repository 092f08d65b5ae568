"""The harness's own figures (issue 3's benchmarks), measured in one go:

    python tests/bench/harness_figures.py [--quick]

- ceiling: `logstorm run` apache -> null sink with 2 generators, lines/s (the
  run's own figure: from the common start to the end of delivery);
- idle cost: a run paced at 1,000 lines/s, CPU of all its processes over a
  steady window, as a share of one core (process CPU times, not wall clock);
- memory: peak resident memory of all the run's processes together, for a
  1-million-line and a 20-million-line run to the null sink.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = os.sysconf("SC_PAGE_SIZE")


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", "run", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time the scheduler gave these processes (schedstat: exact, where
    utime/stime are sampled at clock ticks and overcharge processes that
    wake on a timer)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, IndexError):
            pass
    return total / 1e9


def resident_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError):
            pass
    return total


def rate_of(stderr: bytes) -> float:
    found = re.search(rb"\(([\d,]+) lines/s\)", stderr)
    return float(found[1].replace(b",", b"")) if found else 0.0


def ceiling(lines: int) -> float:
    run = start("--lines", str(lines), "--generators", "2", "--sink", "null", "-q")
    _, stderr = run.communicate()
    return rate_of(stderr)


def idle_cost(seconds: float) -> float:
    run = start("--duration", str(seconds + 10), "--rate", "1000", "--sink", "null", "-q")
    time.sleep(6)
    first = cpu_seconds(tree(run.pid))
    time.sleep(seconds)
    used = cpu_seconds(tree(run.pid)) - first
    run.communicate()
    return used / seconds


def peak_memory(lines: int) -> int:
    run = start("--lines", str(lines), "--generators", "2", "--sink", "null", "-q")
    peak = 0
    while run.poll() is None:
        peak = max(peak, resident_bytes(tree(run.pid)))
        time.sleep(0.2)
    run.communicate()
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a sanity check, not the figures)")
    args = parser.parse_args()
    small, large = (200_000, 2_000_000) if args.quick else (1_000_000, 20_000_000)
    rate = ceiling(1_000_000 if args.quick else 5_000_000)
    print(f"ceiling: apache -> null, 2 generators: {rate:,.0f} lines/s (target 1,500,000)")
    share = idle_cost(5 if args.quick else 20)
    print(f"paced at 1,000 lines/s: {share:.1%} of one core for all processes (target under 5%)")
    one, many = peak_memory(small), peak_memory(large)
    print(f"peak resident memory, all processes: {small:,} lines {one / 2**20:,.0f} MiB, "
          f"{large:,} lines {many / 2**20:,.0f} MiB ({many / one - 1:+.1%}; target within 10%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
