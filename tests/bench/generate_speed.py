"""Lines per second of `generate -i N > /dev/null`, one process and -P 2, per
format, measured in one run (the figures in the README's performance section).

    python tests/bench/generate_speed.py [--lines 2000000] [--formats apache,nginx]

Times the whole command as a user runs it (start-up included) and also the
steady rate from the command's own summary line.
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
    """(lines/s over the wall time of the command, lines/s by its summary)."""
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
    args = parser.parse_args()
    failed = False
    print(f"{'format':14} {'1 process':>12} {'-P 2':>12} {'ratio':>6}  target (1 process)")
    for fmt in args.formats.split(","):
        one_wall, one = measure(fmt, args.lines, 1)
        two_wall, two = measure(fmt, args.lines, 2)
        target = TARGETS.get(fmt, OTHER_TARGET)
        ok = one >= target and (fmt != "apache" or two >= 1.5 * one)
        failed |= not ok
        print(f"{fmt:14} {one:>12,.0f} {two:>12,.0f} {two / one:>6.2f}  {target:,} {'ok' if ok else 'MISSED'}"
              f"   (wall, start-up included: {one_wall:,.0f} / {two_wall:,.0f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
