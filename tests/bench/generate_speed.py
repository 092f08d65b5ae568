"""Lines per second of `generate -i N > /dev/null`, one process and -P 2, per
format, measured in one run (the figures in the README's performance section).

    python tests/bench/generate_speed.py [--lines 2000000] [--formats apache,nginx] [--repeats 5]

The rate that counts is the command's own summary figure: lines/s after its
start-up (building the pools, a fixed ~0.1 s that an endless or long run
pays once). The rate over the whole command, interpreter start included, is
printed beside it. Each figure is the best of --repeats runs, the kinds of
run taking turns, because this machine is shared and noisy.

For scale, "2 apart" is what the machine gives two independent one-process
runs started together (the sum of their rates): the most -P 2 could make at
that moment. Two busy processes here do not always get two cores' worth.
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
COMMAND = [sys.executable, "-c", "from harness.cli.main import generate; generate()"]


def start(fmt: str, lines: int, processes: int) -> subprocess.Popen:
    return subprocess.Popen([*COMMAND, "-l", fmt, "-i", str(lines), "-s", "1", "-P", str(processes)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def summary_rate(run: subprocess.Popen) -> float:
    _, stderr = run.communicate()
    if run.returncode != 0:
        raise SystemExit(stderr.decode())
    return float(re.search(rb"([\d,]+) lines/s", stderr)[1].replace(b",", b""))


def measure(fmt: str, lines: int, processes: int) -> tuple[float, float]:
    """(lines/s over the wall time of the command, lines/s after start-up by its summary)."""
    started = time.perf_counter()
    rate = summary_rate(start(fmt, lines, processes))
    return lines / (time.perf_counter() - started), rate


def apart(fmt: str, lines: int) -> float:
    """Summed summary rates of two one-process runs started together."""
    runs = [start(fmt, lines, 1) for _ in range(2)]
    return sum(summary_rate(run) for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    failed = False
    print(f"{'format':14} {'1 process':>11} {'-P 2':>11} {'ratio':>6} {'2 apart':>11} {'ratio':>6}  target (1 process)")
    for fmt in args.formats.split(","):
        runs = [(measure(fmt, args.lines, 1), measure(fmt, args.lines, 2), apart(fmt, args.lines))
                for _ in range(args.repeats)]
        one_wall, one = map(max, zip(*(run[0] for run in runs)))
        two_wall, two = map(max, zip(*(run[1] for run in runs)))
        ceiling = max(run[2] for run in runs)
        target = TARGETS.get(fmt, OTHER_TARGET)
        ok = one >= target and (fmt != "apache" or two >= 1.5 * one)
        failed |= not ok
        print(f"{fmt:14} {one:>11,.0f} {two:>11,.0f} {two / one:>6.2f} {ceiling:>11,.0f} {ceiling / one:>6.2f}"
              f"  {target:,} {'ok' if ok else 'MISSED'}   (wall, start-up included: {one_wall:,.0f} / {two_wall:,.0f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
