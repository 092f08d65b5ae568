"""Merge the results of a sharded run's shards into one result.

    logstorm merge results/smoke/*.json -o merged.json
    logstorm compare results/baselines/smoke.json merged.json

Each RESULT is a shard's result file (`logstorm run ... --shard K/N`) or an
earlier merge. Counts add, latency histograms add exactly, the per-second
series adds by wall-clock second from the common start, and each shard's
host and status are kept under "shards". A shard of 0..N-1 with no result,
or one that failed, is marked so and the merge exits 1; results of another
profile or seed, or with another histogram layout, are refused (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import orjson


EXAMPLES = """\
examples:
  logstorm merge results/smoke/*.json -o merged.json
  logstorm compare results/baselines/smoke.json merged.json
"""

def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULT", help="the shards' result files (or earlier merges)")
    parser.add_argument("-o", "--output", required=True, metavar="MERGED.json", help="where to write the merged result")


def run(args: argparse.Namespace) -> int:
    from harness.report.merge import merge
    from harness.report.results import load_result

    merged = merge([(path, load_result(path)) for path in args.results])
    write(merged, args.output)
    summarize(merged, args.output)
    return 1 if merged["status"] else 0


def write(merged: dict, output: str | Path) -> None:
    from harness.errors import UserError

    try:
        Path(output).write_bytes(orjson.dumps(merged, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    except OSError as error:
        raise UserError(f"cannot write {output}: {error.strerror or error}") from None


def summarize(merged: dict, output: str | Path) -> None:
    from harness.report.merge import summary

    for line in [*summary(merged), f"result: {output}"]:
        print(line, file=sys.stderr)
