"""Deliver lines from stdin or files to a sink.

    stream SINK [FILE ...]     (no FILE, or -, reads standard input)

Lines pass through as bytes, invalid UTF-8 included. Ctrl-C stops reading,
delivers what is in flight and prints the totals.
"""

from __future__ import annotations

import argparse
from typing import Iterator, Sequence

from harness.errors import RunFailed
from harness.options import number
from harness.sources.files import InputError
from harness.cli.replaying import add_replay, pacing
from harness.cli.runflags import add_pacing, add_rings, add_sinks, report, ring_bytes, schedule_of, targets


EXAMPLES = """\
Each sink has its own flags: `stream SINK --help` lists them (`stream kafka --help`).
-P is producer processes and -s the schedule here (the original tool's flags);
in `generate`, -P is generator processes and -s the seed.

examples:
  generate -l apache -i 100000 | stream kafka --broker localhost:9092 --topic t
  stream file --path out/ -s schedule.json apache.log    # {"update_interval": 3, "schedule": [10, 20, 5]}
  stream kafka --broker localhost:9092 --topic t --replay --speed 60 access.log   # an hour in a minute
"""

def sink_names(argv: Sequence[str]) -> list[str]:
    """The sink named on the command line (its flags join the parser)."""
    positional = [a for a in argv if not a.startswith("-")]
    return positional[:1] if positional and "-h" not in argv[:1] else []


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    from sinks import sink_names as known

    parser.add_argument("sink", help=f"where to deliver: {', '.join(known())} (file = filesystem)")
    parser.add_argument("files", nargs="*", default=["-"], metavar="FILE", help="input files, plain or .gz, or s3://bucket/prefix (default: stdin)")
    add_pacing(parser, short=True)
    add_replay(parser)
    parser.add_argument("-n", "--lines", type=number(int, 0), default=0, help="stop after this many lines (default: all)")
    parser.add_argument("-P", "--producers", type=number(int, 1, 64), default=1, help="producer processes (default 1)")
    parser.add_argument("--endpoint-url", default=None, help="AWS-compatible endpoint for s3:// inputs and the s3/kinesis sinks (default: AWS_ENDPOINT_URL)")
    add_rings(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-second lines, only the summary")
    parser.add_argument("-p", "--position", default=None, help=argparse.SUPPRESS)  # old scripts pass it
    add_sinks(parser, sink_names(argv))


def run(args: argparse.Namespace) -> int:
    from harness.sources.inputs import check_inputs, read_chunks
    from harness.run.spec import RunSpec, StreamInput
    from harness.run.supervisor import supervise

    paths = tuple(args.files or ["-"])
    check_inputs(paths, args.endpoint_url)
    broken: list[InputError] = []
    schedule, start_at, chunks = pacing(args, schedule_of(args), until_broken(read_chunks(paths, args.endpoint_url), broken))
    spec = RunSpec(source=StreamInput(paths), sinks=targets(args, [args.sink], args.producers), lines=args.lines,
                   rate=args.rate, schedule=schedule, quiet=args.quiet, start_at=start_at, ring_bytes=ring_bytes(args))
    outcome = supervise(spec, chunks)
    if broken:
        raise RunFailed(f"{broken[0]} (after reading {outcome.totals.generated:,} lines)")
    report("stream", outcome)
    return outcome.status


def until_broken(chunks: Iterator[bytes], broken: list[InputError]) -> Iterator[bytes]:
    """The chunks until an input turns out broken part-way (a truncated .gz):
    the run then ends as if the input had, delivering what was read, and the
    error waits in `broken` to be the one line that names the file."""
    try:
        yield from chunks
    except InputError as error:
        broken.append(error)
