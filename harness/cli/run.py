"""Generate and deliver in one multiprocess run, no pipe needed.

    logstorm run smoke                               # a named profile (logstorm profiles)
    logstorm run my.toml --set load.rate=500 --broker kafka:9092
    logstorm run --format apache --lines 1000000 --generators 2 --sink null
    logstorm run --duration 10 --rate 2000 --sink file --path out/ --sink null

A profile (its name or path first) writes a result file under results/;
a run from flags does with --results DIR. Each sink gets every line.
Ctrl-C stops generating, delivers what is in flight, prints the totals and
still writes the result file; a second Ctrl-C aborts.

Exit status: 0, 1 when lines were lost or the run broke, 2 for bad input,
3 when every line arrived but a threshold ([thresholds], --threshold) was missed.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from typing import Sequence

from generators.spec import fresh_seed
from harness.options import number, words
from harness.cli.runflags import (add_pacing, add_rings, add_sharding, add_sinks, add_thresholds, report, report_thresholds,
                                  ring_bytes, schedule_of, targets)
from harness.cli.runflags import add_line_identity, line_identity
from harness.run.spec import RunSpec

DEFAULT_SINK = "null"
DEFAULT_LINES = 1_000_000
# Flags that say which part of the run this process makes, not what the run is:
# the shards of one run share its profile hash.
SHARD_KEYS = ("shard", "start_at", "cluster", "shards", "feed")
THRESHOLD_MISSED = 3


EXAMPLES = """\
logstorm run NAME|PATH [--set KEY.PATH=VALUE ...] [--broker HOST:PORT] [--sink NAME] [-d S] [--results DIR]
  runs a profile: a name from `logstorm profiles` or a TOML file; --set changes
  any key (repeatable), --broker points every kafka sink at a cluster, --sink
  replaces the sinks; `logstorm run NAME --help` lists the profile form's flags.
  A run with overrides writes its result under results/NAME-HASH/, apart from
  the plain runs. -g is generators and -P producers per sink (in `generate`,
  -P is generator processes).

examples:
  logstorm run smoke                                    # a named profile, result under results/smoke/
  logstorm run ci --set load.lines=500000 --broker localhost:9092
  logstorm run --lines 1000000 --generators 2 --sink null
"""

def sink_names(argv: Sequence[str]) -> list[str]:
    """Every --sink NAME on the command line (default: the null sink)."""
    names = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--sink"]
    names += [a.split("=", 1)[1] for a in argv if a.startswith("--sink=")]
    return names or [DEFAULT_SINK]


def profile_given(argv: Sequence[str]) -> bool:
    """`logstorm run NAME|PATH ...`: a profile comes first."""
    return bool(argv) and not argv[0].startswith("-")


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no live view, only the summary")
    parser.add_argument("--truth", default=None, metavar="FILE",
                        help="write the ground truth to FILE: each bad line's run-wide number, kind and hash, as "
                             "`generate --truth` does (see logstorm score); with several generators in batch order, not line order")
    add_thresholds(parser)
    if profile_given(argv):
        from harness.profiles.overrides import add_set_argument

        parser.add_argument("profile", metavar="NAME|PATH", help="a profile name (logstorm profiles) or a TOML file")
        add_set_argument(parser)
        parser.add_argument("--broker", action="append", default=None, metavar="HOST:PORT", help="for every kafka sink of the profile")
        parser.add_argument("--sink", action="append", default=None, metavar="NAME", help="replace the profile's sinks")
        parser.add_argument("-d", "--duration", type=number(float, 0, low_open=True), default=None, metavar="SECONDS")
        parser.add_argument("--results", default=None, metavar="DIR", help="folder for the result file (default: the profile's, results/)")
        add_sharding(parser)
        return
    add_run_flags(parser, argv)
    parser.add_argument("--results", default=None, metavar="DIR", help="write a result file under DIR/adhoc/ (default: none)")
    add_sharding(parser)


def add_run_flags(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    from sinks import sink_names as known

    parser.add_argument("-l", "--format", "--logtype", dest="format", default="apache", help="log format (see `generate --list`), default apache")
    parser.add_argument("-n", "--lines", type=number(int, 0), default=None, help=f"lines to generate (default {DEFAULT_LINES:,} without --duration; 0 = until --duration or Ctrl-C)")
    parser.add_argument("-d", "--duration", type=number(float, 0, low_open=True), default=None, metavar="SECONDS",
                        help="stop after this long (paced runs: exactly the lines the schedule asks for in that time)")
    parser.add_argument("-g", "--generators", type=number(int, 1, 64), default=1, metavar="N", help="generator processes (default 1)")
    parser.add_argument("-P", "--producers", type=number(int, 1, 64), default=1, metavar="N", help="producer processes per sink (default 1)")
    parser.add_argument("--sink", action="append", default=None, metavar="NAME",
                        help=f"where to deliver, repeatable: {', '.join(known())} (default {DEFAULT_SINK})")
    parser.add_argument("-b", "--baddata", type=number(float, 0, 100), default=0.0, metavar="PCT", help="percent of lines corrupted on purpose")
    parser.add_argument("--baddata-kinds", type=words, default=None, metavar="KIND,...", help="corrupt only with these kinds")
    parser.add_argument("--seed", type=number(int, 0), default=None, help="seed for reproducible lines (default: random, printed)")
    parser.add_argument("--realtime", action="store_true", help="stamp lines with the wall clock")
    parser.add_argument("--timezone", default="UTC", help="time zone of the timestamps (default UTC)")
    add_pacing(parser, short=False)
    add_line_identity(parser)
    add_rings(parser)
    add_sinks(parser, sink_names(argv))


def build_spec(args: argparse.Namespace) -> RunSpec:
    if getattr(args, "profile", None):
        return replace(load(args).to_runspec(), quiet=args.quiet)
    return spec_from_flags(args)


def load(args: argparse.Namespace):
    from harness.profiles.profile import load_profile

    return load_profile(args.profile, args.set, {"broker": args.broker, "sink": args.sink, "duration": args.duration})


def spec_from_flags(args: argparse.Namespace) -> RunSpec:
    from generators.spec import LineSpec
    from harness.cli.generate import check_spec

    seed = args.seed if args.seed is not None else fresh_seed()
    line_spec = LineSpec(format=args.format.lower(), seed=seed, baddata=args.baddata, kinds=args.baddata_kinds,
                         realtime=args.realtime, timezone=args.timezone)
    check_spec(line_spec)
    schedule = schedule_of(args)
    lines = args.lines
    if lines is None:
        lines = 0 if args.duration is not None else DEFAULT_LINES
    if schedule is not None and args.duration is not None:
        due = math.floor(schedule.lines_due(args.duration))
        lines = min(lines, due) if lines else due
    spec = RunSpec(source=line_spec, sinks=targets(args, args.sink or [DEFAULT_SINK], args.producers), generators=args.generators,
                   lines=lines, duration=args.duration, rate=args.rate, schedule=schedule,
                   ring_bytes=ring_bytes(args), quiet=args.quiet, **line_identity(args, line_spec.format))
    return spec


def sharding(args: argparse.Namespace) -> dict:
    """The RunSpec fields of --shard, --start-at and --feed."""
    k, n = args.shard or (0, 1)
    return {"shard": k, "shards": n, "start_at": args.start_at, "feed": args.feed}


def run(args: argparse.Namespace) -> int:
    """One run, or a profile's repetitions; the result file holds them all."""
    from harness.report.results import build_repeated, build_result, check_result_folder, redact, write_result
    from harness.report.thresholds import check_sinks, failed, judge
    from harness.run.supervisor import supervise

    if getattr(args, "profile", None):
        profile = load(args)
        if args.cluster is None and args.shard is None:  # a shard runs where it was placed
            from harness.cluster.table import cluster_of

            if (table := cluster_of(profile.path)) is not None:
                args.cluster, args.shards = table[0], args.shards or table[1]
        name, repeat, folder = profile.name, profile.repeat, args.results or profile.results
        resolved, warmup, specs = redact(profile.resolved()), profile.warmup, profile.to_runspec
        thresholds, sinks = _thresholds(profile.thresholds, args.threshold), [s.name for s in profile.sinks]
    else:
        spec = spec_from_flags(args)
        name, repeat, folder, warmup, specs = "adhoc", 1, args.results, 0.0, lambda: spec
        resolved = redact({key: value for key, value in vars(args).items() if key not in ("results", "quiet", "threshold", *SHARD_KEYS)})
        thresholds, sinks = tuple(args.threshold), [t.name for t in spec.sinks]
    check_sinks(thresholds, sinks)
    if args.cluster is not None:
        if args.truth is not None:  # shards placed on one machine would each start the same file
            from harness.errors import UserError

            raise UserError("--truth is for a run on one machine; with --shard K/N each shard writes its own")
        from harness.cluster.coordinator import run_on_cluster

        # The shards get this command's own words, as typed after `run`.
        return run_on_cluster(args, replace(specs(), quiet=args.quiet), name, folder, sys.argv[sys.argv.index("run") + 1:])
    shelf = result_shelf(args, name)
    if folder is not None:
        check_result_folder(folder, shelf)
    results, status = [], 0
    for round_ in range(repeat):
        spec = replace(specs(), quiet=args.quiet, **sharding(args))
        if args.truth is not None:
            spec = with_truth(spec, args.truth)
        outcome = supervise(spec)
        label = f"run {name} (seed {spec.source.seed})" + (f", repetition {round_ + 1} of {repeat}" if repeat > 1 else "")
        report(label, outcome)
        outcome.series = [record for record in outcome.series if record["t"] > warmup]
        results.append(build_result(name, resolved, outcome, spec, extra={"warmup_s": warmup}))
        status = max(status, outcome.status)
        if outcome.interrupted:
            break
    result = results[0] if len(results) == 1 else build_repeated(results)
    if thresholds:
        verdicts = judge(thresholds, result)
        report_thresholds(f"run {name}", verdicts)
        result["thresholds"] = [verdict.record() for verdict in verdicts]
        if status == 0 and failed(verdicts):
            status = THRESHOLD_MISSED
    if folder is not None:
        path = write_result(result, folder, shelf)
        print(f"result: {path}", file=sys.stderr)
    return status


def with_truth(spec: RunSpec, path: str) -> RunSpec:
    """`spec` with its generators appending to a new truth file at `path` (each repetition starts it again)."""
    from harness.report.truth import create_truth

    create_truth(path, spec.source).close()
    return replace(spec, truth=path)


def result_shelf(args: argparse.Namespace, name: str) -> str:
    """The folder under --results a run's file goes to: the profile's own, or,
    when --set, --sink, --broker or --duration change what the run measures,
    NAME-HASH (the hash of the overridden profile), so that plain and
    overridden runs never mix in one comparison. A seed drawn at random
    (a profile without one) does not count as a change."""
    overridden = getattr(args, "profile", None) and (args.set or args.broker or args.sink or args.duration is not None)
    if not overridden:
        return name
    from harness.profiles.profile import load_profile
    from harness.report.results import profile_hash

    def measured(profile) -> str:
        resolved = profile.resolved()
        resolved["load"].pop("seed", None)
        return profile_hash(resolved)

    given = measured(load(args))
    return name if given == measured(load_profile(args.profile)) else f"{name}-{given[7:15]}"


def _thresholds(profile: tuple, given: list) -> tuple:
    """The profile's thresholds, a --threshold of the same name replacing one."""
    named = {t.name: t for t in given}
    return tuple(t for t in profile if t.name not in named) + tuple(given)
