"""`stream --replay`: the flags, and a replay put together from the lines
read (harness/sources/replay.py) and their schedule (harness/load/replay.py)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Iterable, Iterator

from harness.options import number

# With --retime, the run starts this long after the lines are rewritten, so
# that the stamps written are the times the lines are due (the processes are
# up well within it; a later start would make the first lines late, and
# their latency says so).
RETIME_LEAD = 1.0


def add_replay(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("replay on the file's own clock")
    group.add_argument("--replay", action="store_true",
                       help="send each line at its original offset from the first, read from its timestamp "
                            "(our formats, Apache and nginx logs; the input is read whole first); excludes --rate and --schedule")
    group.add_argument("--speed", type=number(float, 0, low_open=True), default=1.0, metavar="X",
                       help="with --replay: X times faster (60: an hour in a minute; default 1)")
    group.add_argument("--retime", action="store_true",
                       help="with --replay: rewrite each line's timestamp to when it is sent")


def pacing(args: argparse.Namespace, schedule: Any, chunks: Iterable[bytes]) -> tuple[Any, float | None, Iterable[bytes]]:
    """(schedule, start time or None, the chunks to send): those given, or
    with --replay the file's own."""
    from harness.errors import UserError

    if not args.replay:
        if args.retime or args.speed != 1.0:
            raise UserError("--speed and --retime go with --replay")
        return schedule, None, chunks
    if schedule is not None:
        raise UserError("--replay paces by the file's own timestamps: leave out --rate and --schedule")
    return replay(args, chunks)


def replay(args: argparse.Namespace, chunks: Iterable[bytes]) -> tuple[Any, float | None, Iterator[bytes]]:
    """(schedule, start time or None, the chunks to send) of a replay, its
    notes on stderr (unreadable times, a file going back in time)."""
    from harness.errors import UserError
    from harness.load.replay import Replay, timing
    from harness.sources.files import CHUNK_BYTES
    from harness.sources.replay import record

    recorded = record(chunks)
    timed = timing(recorded.times)
    if recorded.lines and timed.unreadable == len(recorded.lines):
        raise UserError("--replay: no line has a timestamp this tool can read (CLF, ISO 8601 or CloudFront)")
    schedule = Replay(timed.offsets, args.speed)
    start = None
    if args.retime:
        start = time.time() + RETIME_LEAD
        recorded.retimed(start + due for due in schedule.due)
    notes(timed, schedule, args.speed)
    return schedule, start, recorded.chunks(CHUNK_BYTES)


def notes(timed, schedule, speed: float) -> None:
    said = f"replay: {len(schedule.due):,} lines over {schedule.duration:,.2f} s (x{speed:g})"
    if timed.unreadable:
        said += f"; {timed.unreadable:,} without a readable time, sent in order with the line before"
    if timed.backwards:
        said += (f"; the file goes back in time: {timed.backwards:,} lines stamped before an earlier one "
                 f"(by up to {timed.most_backwards:,.3f} s), sent in order")
    print(said, file=sys.stderr)
