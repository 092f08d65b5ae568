"""Flags shared by `stream` and `run`: pacing, sinks and their own flags,
and the summary printed at the end."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Sequence

from harness.errors import UserError
from harness.options import number
from harness.run.spec import SinkTarget

if TYPE_CHECKING:  # a type only: `plan` and the flag parsers need no supervisor (nor multiprocessing)
    from harness.run.supervisor import Outcome


def add_pacing(parser: argparse.ArgumentParser, short: bool) -> None:
    """-r/-s short forms only where the old `stream` had them."""
    rate = ("-r", "--rate") if short else ("--rate",)
    schedule = ("-s", "--schedule") if short else ("--schedule",)
    group = parser.add_mutually_exclusive_group()
    group.add_argument(*rate, type=number(float, 0, low_open=True), default=None, metavar="LINES_PER_S",
                       help="lines per second in total, fractions allowed (default: unlimited)")
    group.add_argument(*schedule, default=None, metavar="FILE.json",
                       help='cyclic rates: {"update_interval": S, "schedule": [r1, r2, ...]}; 0 = silence for that interval')


def add_rings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ring-mib", type=number(float, 0.0625, 1024), default=8.0, metavar="MIB",
                        help="size of each ring (default 8 MiB); a batch larger than half a ring goes in pieces, "
                             "and a line must fit half a ring")


def ring_bytes(args: argparse.Namespace) -> int:
    return int(args.ring_mib * (1 << 20))


def add_thresholds(parser: argparse.ArgumentParser) -> None:
    from harness.report.thresholds import parse_inline

    parser.add_argument("--threshold", action="append", type=parse_inline, default=[], metavar='"SUBJECT OP LIMIT"',
                        help='a limit the run must keep, repeatable, like "kafka.p99 < 50ms" or "achieved >= 99%% target" '
                             "(replaces the profile's of the same name); a miss exits 3")


def report_thresholds(command: str, verdicts: Sequence) -> None:
    """One line per threshold judged, misses last (they are what a reader looks for)."""
    for verdict in sorted(verdicts, key=lambda v: not v.passed):
        said = "threshold met" if verdict.passed else "threshold FAILED"
        print(f"{command}: {said}: {verdict.message}", file=sys.stderr)


def schedule_of(args: argparse.Namespace):
    """The run's load shape from --rate or --schedule; None when unpaced."""
    if args.schedule is None and args.rate is None:
        return None
    from harness.load import schedule

    return schedule.from_json(args.schedule) if args.schedule is not None else schedule.constant(args.rate)


def add_line_identity(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("line identity and read-back")
    group.add_argument("--tag", action="store_true",
                       help="put the run id and line number into each line, in a field its format has (generators/tag.py)")
    group.add_argument("--read-back", default=None, metavar="URL",
                       help="read the far end of the pipeline (kafka://BROKER/TOPIC, file://PATH, s3://BUCKET/PREFIX) "
                            "and report lines seen, missing, duplicated and end-to-end latency; implies --tag")
    group.add_argument("--read-back-quiet", type=number(float, 0, low_open=True), default=None, metavar="SECONDS",
                       help="after sending, stop reading when nothing new arrived for this long (default 5)")


def line_identity(args: argparse.Namespace, format: str) -> dict:
    """The RunSpec fields of --tag and --read-back: a Tagger, a ReadBack."""
    if not (args.tag or args.read_back):
        return {}
    if getattr(args, "shard", None) or getattr(args, "cluster", None):
        # Each shard would draw its own run id and expect every line number.
        raise UserError("--tag and --read-back are for a run on one machine, not with --shard or --cluster")
    from harness.readback.target import line_identity as identity

    return identity(format, args.read_back, args.read_back_quiet)


def shard(text: str) -> tuple[int, int]:
    """--shard K/N: shard K (0-based) of N."""
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N with 0 <= K < N (for example 0/4)")
    return int(k), int(n)


def add_sharding(parser: argparse.ArgumentParser) -> None:
    """The flags that make a run one shard of many, or spread it over a cluster."""
    group = parser.add_argument_group("more than one machine")
    group.add_argument("--shard", type=shard, default=None, metavar="K/N",
                       help="generate only the batches whose index is K mod N, paced as 1/N of the schedule")
    group.add_argument("--start-at", type=number(float, 0, low_open=True), default=None, metavar="EPOCH_SECONDS",
                       help="wait until this time to send the first line (the shards' common start)")
    group.add_argument("--cluster", default=None, metavar="ray[:ADDRESS]", help="run --shards shards on a Ray cluster, one per node")
    group.add_argument("--shards", type=number(int, 1, 4096), default=None, metavar="N", help="shards for --cluster (default: one per node)")
    group.add_argument("--feed", default=None, help=argparse.SUPPRESS)  # per-second records as JSON lines, for a coordinator


def add_sinks(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    from sinks import sink_module

    for name in dict.fromkeys(names):
        try:
            module = sink_module(name)
        except KeyError as error:
            raise UserError(error.args[0]) from None
        group = parser.add_argument_group(f"{module.NAME} sink", module.HELP)
        try:
            module.add_arguments(group)
        except argparse.ArgumentError as error:
            raise UserError(f"sink {module.NAME} cannot be combined with the others in one run: {error}") from None


def targets(args: argparse.Namespace, names: Sequence[str], producers: int) -> tuple[SinkTarget, ...]:
    from sinks import sink_module

    out = []
    for name in names:
        module = sink_module(name)
        most = getattr(module, "MAX_PRODUCERS", None)
        if most is not None and producers > most:
            # Cutting -P down quietly would measure another run than the one asked for.
            raise UserError(f"sink {module.NAME} takes at most {most} producer(s), not -P {producers}")
        out.append(SinkTarget(module.NAME, module.__name__, module.options(args), producers))
    return tuple(out)


def report_read_back(found: dict, sink) -> None:
    """What arrived at the far end, and whether the missing lines are those
    the sink said it failed or was unsure of."""
    first = f" (first: {', '.join(map(str, found['first_missing']))})" if found["missing"] else ""
    print(f"  read back from {found['url']}: {found['seen']:,} of {found['expected']:,} seen, {found['missing']:,} missing{first}, "
          f"{found['duplicated']:,} duplicated, {found['out_of_order']:,} out of order, {found['untagged']:,} untagged",
          file=sys.stderr)
    if sink.unacknowledged:
        print(f"  {sink.name}: {found['seen']:,} of the {sink.delivered:,} lines sent arrived", file=sys.stderr)
    elif found["missing"] != (not_delivered := sink.failed + sink.in_doubt + sink.unsent):
        print(f"  read back: {found['missing']:,} missing, but the sink failed or was unsure of {not_delivered:,}: "
              f"{found['missing'] - not_delivered:+,} lines lost past what it knew", file=sys.stderr)
    if found["untagged"]:
        print(f"  read back: {found['untagged']:,} lines arrived without a tag (rewritten on the way?)", file=sys.stderr)


def report(command: str, outcome: Outcome) -> None:
    """The closing summary on stderr: what was generated, what each sink got,
    why anything failed, and the conservation check."""
    t, seconds = outcome.totals, outcome.seconds
    bad = f", {sum(t.bad.values()):,} bad ({', '.join(f'{k} {v:,}' for k, v in sorted(t.bad.items()))})" if t.bad else ""
    # The rate is over the span from the common start to the last delivery;
    # set-up and stopping are the time "in all".
    print(f"{command}: {t.generated:,} lines in {seconds:.2f} s ({t.generated / max(seconds, 1e-9):,.0f} lines/s){bad}; "
          f"{outcome.wall_seconds:.2f} s in all", file=sys.stderr)
    for sink in t.sinks:
        latency = ""
        if sink.publish.total_count:
            p = sink.publish
            latency = (f"; latency p50 {p.percentile(50) / 1000:.2f} ms, p99 {p.percentile(99) / 1000:.2f} ms, "
                       f"max {p.max / 1000:.2f} ms")
        late = f", {sink.late:,} late" if sink.late else ""
        lost = "".join(f", {count:,} {kind}" for kind, count, _ in sink.lost())
        said = "sent, unacknowledged" if sink.unacknowledged else "delivered"
        print(f"  {sink.name}: {sink.delivered:,} {said}, {sink.failed:,} failed{lost}{late}{latency}", file=sys.stderr)
        for kind, count, reason in sink.lost():
            print(f"  {kind}: {count:,} lines: {reason}", file=sys.stderr)
        if sink.e2e is not None and sink.e2e.total_count:
            e = sink.e2e
            print(f"  {sink.name} end to end: {e.total_count:,} lines read back; latency p50 {e.percentile(50) / 1000:.2f} ms, "
                  f"p99 {e.percentile(99) / 1000:.2f} ms, max {e.max / 1000:.2f} ms", file=sys.stderr)
    for reason, count in sorted(outcome.failures.items(), key=lambda kv: -kv[1]):
        print(f"  failed: {count:,} lines: {reason}", file=sys.stderr)
    if outcome.read_back:
        report_read_back(outcome.read_back, t.sinks[0])
    for note in outcome.notes:
        print(f"  {note}", file=sys.stderr)
    for error in outcome.errors:
        print(f"{command}: error: {error}", file=sys.stderr)
    if outcome.interrupted:
        drained = not any(sink.lost() for sink in t.sinks)
        said = "aborted" if outcome.aborted_by_user else "interrupted; drained what was in flight" if drained else "interrupted"
        print(f"{command}: {said}", file=sys.stderr)
