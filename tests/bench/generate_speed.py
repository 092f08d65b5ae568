"""Lines per second of `generate -i N > /dev/null`, one process and -P 2, per
format, measured in one run (the figures in the README's performance section).

    python tests/bench/generate_speed.py [--lines 2000000] [--formats apache,nginx]

The rate that counts is the command's own summary figure: lines/s after its
start-up (building the pools, a fixed ~0.1-0.3 s that an endless or long run
pays once). The rate over the whole command, interpreter start included, is
printed beside it. Each figure is the best of --repeats runs, one process and
-P 2 taking turns, because this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from generators import FORMATS

TARGETS = {"apache": 1_000_000}
OTHER_TARGET = 500_000


def measure(fmt: str, lines: int, processes: int) -> tuple[float, float]:
    """(lines/s over the wall time of the command, lines/s after start-up by its summary)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", "from harness.cli import generate; generate()", "-l", fmt,
                             "-i", str(lines), "-s", "1", "-P", str(processes)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    wall = time.perf_counter() - started
    summary = re.search(rb"([\d,]+) lines/s", result.stderr)
    return lines / wall, float(summary[1].replace(b",", b"")) if summary else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    failed = False
    print(f"{'format':14} {'1 process':>12} {'-P 2':>12} {'ratio':>6}  target (1 process)")
    for fmt in args.formats.split(","):
        runs = [(measure(fmt, args.lines, 1), measure(fmt, args.lines, 2)) for _ in range(args.repeats)]
        one_wall, one = map(max, zip(*(first for first, _ in runs)))
        two_wall, two = map(max, zip(*(second for _, second in runs)))
        target = TARGETS.get(fmt, OTHER_TARGET)
        ok = one >= target and (fmt != "apache" or two >= 1.5 * one)
        failed |= not ok
        print(f"{fmt:14} {one:>12,.0f} {two:>12,.0f} {two / one:>6.2f}  {target:,} {'ok' if ok else 'MISSED'}"
              f"   (wall, start-up included: {one_wall:,.0f} / {two_wall:,.0f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
