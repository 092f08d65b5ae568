"""Record a profile's baseline for compare: run it with repetitions and write one file.

`logstorm baseline save PROFILE` runs the profile (its own repeat, or
--repeat N; at least 4, the fewest compare can judge) as `logstorm run`
would and writes results/baselines/PROFILE.json, the combined file of
every repetition. Record it from a clean checkout on the kind of machine
the comparisons run on: compare warns when the baseline comes from a tree
with uncommitted changes, another logstorm version or another class of host.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from harness.errors import UserError
from harness.options import number

MIN_REPEAT = 4  # 4 against 4 runs is the least that can reach alpha 0.05 (compare)
EXAMPLES = """examples:
  logstorm baseline save ci                        # 5 runs (the profile's repeat) -> results/baselines/ci.json
  logstorm baseline save ci-latency --repeat 10
  logstorm baseline save my.toml --output /tmp/my-baseline.json
"""


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    # One action today; a positional word (not subparsers) keeps intermixed flags working.
    parser.add_argument("action", choices=("save",), help="save: run PROFILE with repetitions and write its baseline")
    parser.add_argument("profile", metavar="NAME|PATH", help="a profile name (logstorm profiles) or a TOML file")
    parser.add_argument("--repeat", type=number(int, MIN_REPEAT), default=None, metavar="N",
                        help=f"repetitions (default: the profile's repeat, at least {MIN_REPEAT})")
    parser.add_argument("--output", default=None, metavar="FILE", help="where to write it (default results/baselines/NAME.json)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no live view, only the summaries")


def run(args: argparse.Namespace) -> int:
    from harness.cli import run as run_command
    from harness.profiles.profile import load_profile

    profile = load_profile(args.profile)
    repeat = args.repeat or max(profile.repeat, MIN_REPEAT)
    output = Path(args.output or Path("results") / "baselines" / f"{profile.name}.json")
    _check_writable(output)
    with tempfile.TemporaryDirectory(prefix="logstorm-baseline-") as folder:
        parser = argparse.ArgumentParser()
        run_argv = [args.profile, "--set", f"profile.repeat={repeat}", "--results", folder] + (["--quiet"] if args.quiet else [])
        run_command.add_arguments(parser, run_argv)
        status = run_command.run(parser.parse_args(run_argv))
        if status != 0:
            print(f"logstorm baseline: the runs did not end well (status {status}): no baseline written", file=sys.stderr)
            return status
        written = next(Path(folder).glob("*/*.json"))
        shutil.copyfile(written, output)
    print(f"baseline: {output} ({repeat} runs of {profile.name})", file=sys.stderr)
    _warn_if_dirty(output)
    return 0


def _check_writable(output: Path) -> None:
    """Before minutes of runs: the baseline's folder exists or can be made."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot write the baseline to {output}: {error.strerror or error}") from None


def _warn_if_dirty(output: Path) -> None:
    from harness.report.results import load_result

    logstorm = load_result(output)["logstorm"]
    if logstorm.get("dirty"):
        print(f"logstorm baseline: warning: recorded from a tree with uncommitted changes (commit {logstorm['commit'][:10]}): "
              "compare will say so; commit first, or record it from a clean checkout", file=sys.stderr)
