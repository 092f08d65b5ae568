"""How often the CI gate cries wolf on this machine: the `ci` profile (five
repetitions a run) compared against itself on the same commit, again and
again, as docs/ci.md's job would compare it with its baseline.

    python3 tests/bench/false_alarms.py                  # 10 comparisons from 11 consecutive sets
    python3 tests/bench/false_alarms.py --fresh-pairs    # 10 comparisons of 20 sets, none shared
    python3 tests/bench/false_alarms.py --interleaved    # each pair's runs alternate: A B A B ...
    python3 tests/bench/false_alarms.py --profile ci-latency --comparisons 5

It clones this repository's HEAD into a temporary folder and runs from
there, so every result comes from a clean tree. Set i is compared with set
i + 1 (by default each set but the first and last serves twice; with
--fresh-pairs, pairs share nothing). With --interleaved each pair's runs
are made one at a time, alternating between its two sides, so that a
change in the host's load between the sides (other jobs on a shared
machine) falls on both alike: the noise of the method alone. A comparison is a false alarm when any
metric is not "no significant change", compare warns, or
`compare --fail-on-regression` does not exit 0. Prints each comparison and
the count; exits 1 when there was any false alarm. CPU heavy: about 30 s a
set of `ci` on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAME = "no significant change"


def logstorm(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(clone)}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=1800)


def record(clone: Path, profile: str, index: int, *sets: str) -> Path:
    """Run the profile into sets/INDEX/; the folder of its result files."""
    folder = clone / "sets" / f"{index:02d}"
    # By path: the clone's own profile, whatever an installed logstorm ships.
    path = clone / "profiles" / f"{profile}.toml"
    done = logstorm(clone, "run", str(path) if path.exists() else profile, "--quiet", "--results", str(folder), *sets)
    if done.returncode != 0:
        sys.exit(f"false_alarms: set {index}: logstorm run {profile} exited {done.returncode}: {done.stderr.strip()}")
    return folder / profile


def interleaved_pair(clone: Path, profile: str, index: int) -> tuple[Path, Path]:
    """Two sets of the profile's repeat runs each, made A B A B ...: one run per file."""
    from harness.profiles.profile import load_profile

    repeat = load_profile(str(clone / "profiles" / f"{profile}.toml")).repeat
    for _ in range(repeat):
        base = record(clone, profile, 2 * index, "--set", "profile.repeat=1")
        new = record(clone, profile, 2 * index + 1, "--set", "profile.repeat=1")
    print(f"  pair {index + 1} recorded", file=sys.stderr, flush=True)
    return base, new


def rows(table: str) -> dict[str, tuple[str, str]]:
    """{metric: (change with its interval, verdict without p)} from compare's text table."""
    found = {}
    for line in table.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 5 and cells[0] != "metric":
            found[cells[0]] = (cells[3], re.sub(r" \(.*\)$", "", cells[4]))
    return found


def judge(clone: Path, base: Path, new: Path) -> tuple[bool, str]:
    """(false alarm?, one line describing the comparison)."""
    done = logstorm(clone, "compare", str(base), str(new), "--fail-on-regression")
    found = rows(done.stdout)
    loud = {metric: verdict for metric, (_, verdict) in found.items() if verdict != SAME}
    warnings = [line for line in done.stderr.splitlines() if line.strip()]
    alarm = bool(loud) or bool(warnings) or done.returncode != 0 or not found
    throughput = found.get("throughput", ("n/a", ""))[0]
    said = f"throughput {throughput}; " + (", ".join(f"{m} {v}" for m, v in loud.items()) or "every metric: " + SAME)
    if warnings or done.returncode != 0:
        said += f"; exit {done.returncode}; " + " | ".join(warnings)
    return alarm, said


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--comparisons", type=int, default=10)
    parser.add_argument("--fresh-pairs", action="store_true", help="compare sets that share nothing (twice the runs)")
    parser.add_argument("--interleaved", action="store_true", help="fresh pairs whose runs alternate between the sides")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logstorm-false-alarms-") as folder:
        clone = Path(folder) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
        commit = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        sets = args.comparisons * 2 if args.fresh_pairs or args.interleaved else args.comparisons + 1
        how = " interleaved" if args.interleaved else ""
        print(f"{args.profile} at {commit}: {sets} sets{how}, {args.comparisons} comparisons", flush=True)
        if args.interleaved:
            pairs = [interleaved_pair(clone, args.profile, i) for i in range(args.comparisons)]
        else:
            recorded = []
            for index in range(sets):
                recorded.append(record(clone, args.profile, index))
                print(f"  set {index + 1} of {sets} recorded", file=sys.stderr, flush=True)
            pairs = ([(recorded[2 * i], recorded[2 * i + 1]) for i in range(args.comparisons)] if args.fresh_pairs
                     else list(zip(recorded, recorded[1:])))
        alarms = 0
        for number, (base, new) in enumerate(pairs, 1):
            alarm, said = judge(clone, base, new)
            alarms += alarm
            print(f"{number:2d}. {base.parent.name} vs {new.parent.name}: {'FALSE ALARM: ' if alarm else ''}{said}", flush=True)
    print(f"false alarms: {alarms} of {len(pairs)} comparisons")
    return 1 if alarms else 0


if __name__ == "__main__":
    sys.exit(main())
