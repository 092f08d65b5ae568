"""Synthesize pseudo-realistic log lines to stdout or a file.

Lines are deterministic for a seed: the same seed, format and flags give the
same bytes, whatever --processes is.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from generators.spec import fresh_seed
from harness.errors import RunFailed, UserError
from harness.options import number, words
from harness.report.progress import Progress, summary_line
from harness.stops import StopSignals

DEFAULT_LINES = 1000


EXAMPLES = """\
-P is generator processes and -s the seed here (the original tool's flags);
in `stream`, -P is producers and -s the schedule; in `logstorm run`, -g is
generators and -P producers per sink.

examples:
  generate -l apache -i 100000 | stream kafka --broker localhost:9092 --topic t
  generate -l apache -b 40 -i 10000 > mixed.log    # about 40 % of the lines corrupted
  generate -i 2000000 -P 2 -s 7 -o big.log         # 2 processes, seed 7: the same bytes every time
"""

def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.add_argument("-l", "--logtype", default="apache", help="log format (case-insensitive; see --list), default apache")
    parser.add_argument("-i", "--iterations", type=number(int, 0), default=DEFAULT_LINES,
                        help=f"lines to write; 0 = endless until Ctrl-C or a closed pipe (default {DEFAULT_LINES})")
    parser.add_argument("-b", "--baddata", type=number(float, 0, 100), default=0.0, metavar="PCT",
                        help="percent of lines to corrupt on purpose, 0-100, fractions allowed")
    parser.add_argument("--baddata-kinds", type=words, default=None, metavar="KIND,...",
                        help="corrupt only with these kinds (default: all the format has; see --list)")
    parser.add_argument("-s", "--seed", type=number(int, 0), default=None, help="seed for reproducible output (default: random, printed in the summary)")
    parser.add_argument("-r", "--realtime", action="store_true", help="stamp lines with the wall clock instead of the simulated clock")
    parser.add_argument("--start", default=None, metavar="ISO", help="simulated clock: time of the first line (default 2026-01-01T00:00:00+00:00)")
    parser.add_argument("--clock-rate", type=number(float, 0, low_open=True), default=1000.0, metavar="LINES_PER_S",
                        help="simulated clock: lines per simulated second (default 1000)")
    parser.add_argument("--timezone", default="UTC", help="time zone of the timestamps: UTC, +0200 or Europe/Paris (default UTC)")
    parser.add_argument("--bot-share", type=number(float, 0, 1), default=0.08, help="share of clients that are bots, 0-1 (default 0.08)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--truth", default=None, metavar="FILE",
                        help="write the ground truth to FILE: each bad line's number, kind and hash (see logstorm score)")
    parser.add_argument("-P", "--processes", type=number(int, 1, 64), default=1, metavar="N",
                        help="generator processes writing one output, in order (default 1)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    parser.add_argument("-p", "--position", default=None, help=argparse.SUPPRESS)  # old scripts pass it
    parser.add_argument("--list", action="store_true", help="list the log formats with an example line each, and the bad-data kinds")


def run(args: argparse.Namespace) -> int:
    from generators.spec import DEFAULT_START, LineSpec
    from harness.run.ordered import OrderedOutput, WriteFailed

    if args.list:
        return list_formats()
    seed = args.seed if args.seed is not None else fresh_seed()
    spec = LineSpec(format=args.logtype.lower(), seed=seed, baddata=args.baddata, kinds=args.baddata_kinds,
                    realtime=args.realtime, start=args.start or DEFAULT_START, clock_rate=args.clock_rate,
                    timezone=args.timezone, bot_share=args.bot_share)
    check_spec(spec)
    truth = None
    if args.truth is not None:
        from harness.report.truth import create_truth  # with hashlib's OpenSSL: only for --truth

        truth = create_truth(args.truth, spec)
    output = OrderedOutput(spec, args.iterations, args.processes, open_output(args.output), truth)
    progress = Progress(enabled=not args.quiet)
    started = time.monotonic()
    try:
        with StopSignals(interrupt):
            output.run(progress.update)
    except WriteFailed as failed:
        raise RunFailed(f"cannot write {args.output or 'stdout'}: {failed} (wrote {output.lines:,} whole lines)") from None
    finally:
        progress.close()
    if not args.quiet:
        print(summary_line("generate", output.lines, dict(output.bad), time.monotonic() - started,
                           output.startup, seed), file=sys.stderr)
    return 0


def interrupt(count: int) -> None:
    """SIGTERM and SIGHUP (timeout(1), systemd, a closed terminal) end the
    output as Ctrl-C does: whole lines, counted in the summary. Ctrl-C too,
    when a launcher has blocked it."""
    raise KeyboardInterrupt


def check_spec(spec) -> None:
    """Turn a spec the generators refuse into one line for the user."""
    from generators.factory import validate

    try:
        validate(spec)
    except ValueError as error:
        raise UserError(str(error)) from None


def open_output(path: str | None):
    if path is None:
        return sys.stdout.buffer
    try:
        return open(path, "wb")
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None


def list_formats() -> int:
    from generators import FORMATS
    from generators.baddata import BREAKS
    from generators.factory import LineFactory
    from generators.spec import LineSpec
    from generators.world import MODEL

    for name in FORMATS:
        factory = LineFactory(LineSpec(format=name, seed=1))
        example = factory.render(0, 1).data.decode().rstrip("\n")
        print(f"{name:14} {factory.format.summary}\n{'':14} {example}")
        print(f"{'':14} bad-data kinds: {', '.join(factory.kinds)}\n")
    print("bad-data kinds, and which parsers each breaks:")
    for kind, breaks in BREAKS.items():
        print(f"  {kind:15} {breaks}")
    print("\nwhat the data models:")
    for line in MODEL:
        print(f"  {line}")
    return 0
