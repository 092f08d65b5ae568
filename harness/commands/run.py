"""Generate and deliver in one multiprocess run, no pipe needed.

    logstorm run --format apache --lines 1000000 --generators 2 --sink null
    logstorm run --duration 10 --rate 2000 --sink file --path out/ --sink null

Each sink gets every line. Ctrl-C stops generating, delivers what is in
flight and prints the totals; a second Ctrl-C aborts.
"""

from __future__ import annotations

import argparse
import math
import secrets
from typing import Sequence

from harness.options import number, words
from harness.runflags import add_pacing, add_sinks, report, schedule_of, targets
from harness.runspec import RunSpec

DEFAULT_SINK = "null"
DEFAULT_LINES = 1_000_000


def sink_names(argv: Sequence[str]) -> list[str]:
    """Every --sink NAME on the command line (default: the null sink)."""
    names = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--sink"]
    names += [a.split("=", 1)[1] for a in argv if a.startswith("--sink=")]
    return names or [DEFAULT_SINK]


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
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
    parser.add_argument("--ring-mib", type=number(float, 0.0625, 1024), default=8.0, metavar="MIB", help="size of each ring (default 8 MiB)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-second lines, only the summary")
    add_sinks(parser, sink_names(argv))


def build_spec(args: argparse.Namespace) -> RunSpec:
    from generators.factory import LineSpec
    from harness.commands.generate import check_spec

    seed = args.seed if args.seed is not None else secrets.randbits(32)
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
                   ring_bytes=int(args.ring_mib * (1 << 20)), quiet=args.quiet)
    return spec


def run(args: argparse.Namespace) -> int:
    from harness.supervisor import supervise

    spec = build_spec(args)
    outcome = supervise(spec)
    report(f"run (seed {spec.source.seed})", outcome)
    return outcome.status
