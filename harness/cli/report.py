"""An HTML report of one or more results, with charts.

    logstorm report results/smoke/0003_20260501T100000Z.json -o smoke.html
    logstorm report results/baselines/ci.json results/ci/ -o ci.html   # overlaid: baseline against new

One self-contained file that opens offline (no network; scripts, styles and
data inline): per sink the target and achieved rate, latency percentiles over
time, latency by percentile from the HdrHistogram, failures and lag; bad
lines by kind, ring fill; the run's facts and its thresholds. Several
results are overlaid in each chart. A RESULT may be a folder of repeated
runs (one line per repetition). A merged result (logstorm merge) given with
its shards' result files draws one line per shard beside the total:

    logstorm report merged.json shard-0.json shard-1.json -o sharded.html
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from harness.errors import UserError

EXAMPLES = """\
examples:
  logstorm report results/smoke/ -o smoke.html
  logstorm report results/baselines/smoke.json results/smoke/ -o overlaid.html
  logstorm report merged.json shard-0.json shard-1.json -o sharded.html
"""


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULT", help="result files, or folders of repeated runs")
    parser.add_argument("-o", "--output", default="report.html", metavar="FILE", help="where to write it (default report.html; - for stdout)")
    parser.add_argument("--title", default=None, help="the page's title (default: the profiles' names)")


def run(args: argparse.Namespace) -> int:
    from harness.report.charts import fold_shards
    from harness.report.html import render
    from harness.report.results import load_run

    loaded = fold_shards([{**load_run(path), "label": label(path)} for path in args.results])
    write(render([(result.pop("label"), result) for result in loaded], title=args.title), args.output)
    return 0


def label(path: str) -> str:
    """A result's name in the report: its file or folder, with the profile's folder."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def write(page: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(page)
        return
    try:
        Path(output).write_text(page, "utf-8")
    except OSError as error:
        raise UserError(f"cannot write {output}: {error.strerror or error}") from None
    print(f"report: {output} ({len(page.encode()) / 1024:,.0f} KiB)", file=sys.stderr)
