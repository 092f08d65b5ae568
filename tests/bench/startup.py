"""Start-up: wall time of whole short commands, median of --repeat runs
(issue 12's targets), beside what the interpreter costs before any of
logstorm's code runs.

    python tests/bench/startup.py [--repeat 10] [--bin DIR]

DIR holds the console scripts and the python to time (default: this
interpreter's). The figure a user gets is that of a plain install:

    python3 -m venv /tmp/v && /tmp/v/bin/pip install . && python tests/bench/startup.py --bin /tmp/v/bin

An editable install (`pip install -e`) adds its import finder to every
start, and a machine's own `.pth` files in the base interpreter's
site-packages run at every start too; both show in the `python -c pass`
line. The kinds of command take turns, so a busy spell hits each alike.

Not a pytest test: timings belong to benchmarks.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"stream stdout, one line": 0.25, "generate -i 1": 0.15, "logstorm run --lines 1 --sink null": 0.40}


def commands(bin_dir: Path, folder: Path) -> dict[str, list[str]]:
    python = str(bin_dir / "python3")
    return {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import numpy'": [python, "-c", "import numpy"],
        "stream stdout, one line": [str(bin_dir / "stream"), "stdout", str(folder / "one.log")],
        "generate -i 1": [str(bin_dir / "generate"), "-i", "1"],
        "logstorm run --lines 1 --sink null": [str(bin_dir / "logstorm"), "run", "--lines", "1", "--sink", "null",
                                               "--results", str(folder / "results")],
    }


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--bin", type=Path, default=Path(sys.executable).parent)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "one.log").write_bytes(b'127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5\n')
        todo = commands(args.bin, folder)
        for command in todo.values():  # warm the page cache and the bytecode caches
            timed(command)
        times: dict[str, list[float]] = {name: [] for name in todo}
        for _ in range(args.repeat):
            for name, command in todo.items():
                times[name].append(timed(command))
    print(f"start-up in {args.bin}, median of {args.repeat} (min, max)")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  target {target:.2f} {'ok' if median <= target else 'MISSED'}"
        print(f"  {name:38} {median:6.3f} s  ({min(seconds):.3f}, {max(seconds):.3f}){verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
