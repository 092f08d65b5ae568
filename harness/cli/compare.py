"""Compare two results: throughput and latency, change and verdict per metric.

    logstorm compare results/baselines/smoke.json results/smoke/ --fail-on-regression
    logstorm compare BASE NEW --threshold throughput:5%,p99:10% --format markdown >> "$GITHUB_STEP_SUMMARY"

BASE and NEW are result files, or folders whose *.json files are runs of
one profile; each repetition is one sample. Each metric shows the median
run ± the noise within each side, the change of the medians and the 95%
interval of new/base (Hodges-Lehmann); it is better or worse only when that
whole interval lies beyond its threshold (so also significant by a Mann-Whitney U test, alpha 0.05).
One run a side cannot be judged: only the change is shown. Gated metrics:
throughput, p50, p99 and any metric named in --threshold;
--fail-on-regression exits 1 when one of them got worse or is missing from
NEW, and 2 when one of them cannot be judged. Two results with no metric in
common are an error.

Formats: text; markdown (a table for a CI job summary or a pull-request
comment); bmf (Bencher Metric Format, NEW's figures); github-benchmark
(NEW's figures for github-action-benchmark with `tool: customSmallerIsBetter`:
latency percentiles in us, and throughput as its inverse, ns per line);
html (a self-contained page: the verdicts, and the charts of `logstorm
report` for base and new side by side: `--format html > compare.html`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import orjson

from harness.errors import UserError
from harness.report.compare import (BETTER, WORSE, Row, Thresholds, compare, measures, notes, parse_thresholds, regressions,
                                    unjudged_gates, warnings, why_unjudged)

FORMATS = ("text", "markdown", "bmf", "github-benchmark", "html")
HEADER = ("metric", "base ± noise", "new ± noise", "change [95% CI]", "verdict")


EXAMPLES = """\
examples:
  logstorm compare results/baselines/ci.json results/ci/ --fail-on-regression
  logstorm compare results/baselines/ci.json results/ci/ --format markdown >> "$GITHUB_STEP_SUMMARY"
  logstorm compare old/ci/ new/ci/ --threshold 10%,throughput:5%
"""

def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.add_argument("base", metavar="BASE", help="the baseline: a result file or a folder of repeated runs")
    parser.add_argument("new", metavar="NEW", help="the run to judge: a result file or a folder of repeated runs")
    parser.add_argument("--threshold", default="5%", metavar="SPEC",
                        help="smallest change that counts: 5%% for all metrics, or per metric like throughput:5%%,p99:10%% "
                             "(a named metric is also gated); default 5%%")
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a gated metric got worse or is missing from NEW")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")


def run(args: argparse.Namespace) -> int:
    from harness.report.results import load_run

    thresholds = parse_thresholds(args.threshold)
    base, new = load_run(args.base), load_run(args.new)
    rows = compare(base, new, thresholds)
    cautions = warnings(base, new)
    for caution in cautions:
        print(f"logstorm compare: warning: {caution}", file=sys.stderr)
    failing = regressions(rows, thresholds)
    render = {"text": text, "markdown": markdown, "bmf": bmf, "github-benchmark": github_benchmark, "html": html}[args.format]
    sys.stdout.write(render(base, new, rows, thresholds, cautions, failing))
    if args.format in ("bmf", "github-benchmark"):
        for message in failing:
            print(f"logstorm compare: worse: {message}", file=sys.stderr)
    blind = unjudged_gates(rows)
    if blind and args.fail_on_regression:
        # A gate that cannot judge must not pass as if it had.
        runs = next(row.runs for row in rows if row.label in blind)
        raise UserError(f"--fail-on-regression cannot judge {', '.join(blind)}: {why_unjudged(runs)}")
    return 1 if failing and args.fail_on_regression else 0


def text(base: dict, new: dict, rows: list[Row], thresholds: Thresholds, cautions: list[str], failing: list[str]) -> str:
    table = [HEADER] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(5)]
    aligned = [("<", ">", ">", ">", "<")[i] for i in range(5)]
    lines = [f"logstorm compare: {new['profile']['name']}, {measures(new)}", f"  base  {_run(base)}", f"  new   {_run(new)}", ""]
    lines += ["  ".join(f"{cell:{aligned[i]}{widths[i]}}" for i, cell in enumerate(line)).rstrip() for line in table]
    lines += ["", thresholds.describe()]
    lines += [f"note: {note}" for note in notes(rows)]
    lines += [f"warning: {caution}" for caution in cautions]
    lines.append(_summary(failing))
    return "\n".join(lines) + "\n"


def markdown(base: dict, new: dict, rows: list[Row], thresholds: Thresholds, cautions: list[str], failing: list[str]) -> str:
    lines = [f"### logstorm compare: `{new['profile']['name']}`, {measures(new)}", "",
             f"**Base:** {_run(base)}<br>**New:** {_run(new)}", "",
             "| " + " | ".join(HEADER) + " |", "|:--|--:|--:|--:|:--|"]
    for row in rows:
        cells = list(_cells(row))
        if row.verdict in (BETTER, WORSE):
            cells[4] = f"**{row.verdict}**" + cells[4][len(row.verdict):]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"<sub>{thresholds.describe()}</sub>"]
    if notes(rows):
        lines += [""] + [f"- {note}" for note in notes(rows)]
    if cautions:
        lines += ["", "> [!WARNING]"] + [f"> - {caution}" for caution in cautions]
    lines += ["", f"**{_summary(failing)}**"]
    return "\n".join(lines) + "\n"


def bmf(base: dict, new: dict, rows: list[Row], thresholds: Thresholds, cautions: list[str], failing: list[str]) -> str:
    """Bencher Metric Format: {benchmark: {measure: {"value": v}}}, NEW's figures;
    latency measures in microseconds, throughput in lines per second."""
    report: dict[str, dict] = {}
    for row in rows:
        if row.new is not None:
            measure = "throughput" if row.metric.kind == "throughput" else _measure(row)
            report.setdefault(_benchmark(new, row), {})[measure] = {"value": row.new}
    return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def github_benchmark(base: dict, new: dict, rows: list[Row], thresholds: Thresholds, cautions: list[str],
                     failing: list[str]) -> str:
    """github-action-benchmark's custom format for `tool: customSmallerIsBetter`:
    [{"name", "unit", "value", "extra"}]; throughput goes in as ns per line
    so that one list, one direction, serves every metric."""
    entries = []
    for row in rows:
        if not row.new:
            continue
        bench = _benchmark(new, row)
        if row.metric.kind == "throughput":
            entries.append({"name": f"{bench} time per line", "unit": "ns/line", "value": round(1e9 / row.new, 3),
                            "extra": f"{row.new:,.0f} lines/s"})
        else:
            entries.append({"name": f"{bench} {row.metric.name.replace('_', ' ')} latency", "unit": "us", "value": row.new})
    return orjson.dumps(entries, option=orjson.OPT_INDENT_2).decode() + "\n"


def html(base: dict, new: dict, rows: list[Row], thresholds: Thresholds, cautions: list[str], failing: list[str]) -> str:
    """A self-contained page (harness/report/html.py): the verdict table, then
    each chart of `logstorm report` for base and new side by side."""
    from harness.report.html import SIDE, Comparison, render

    verdicts = Comparison(header=HEADER, rows=[_cells(row) for row in rows],
                          notes=[thresholds.describe(), *notes(rows), *(f"warning: {c}" for c in cautions)],
                          summary=_summary(failing), worse=[i for i, row in enumerate(rows) if row.verdict == WORSE])
    return render([(f"base: {_run(base)}", base), (f"new: {_run(new)}", new)], layout=SIDE, comparison=verdicts,
                  title=f"logstorm compare: {new['profile']['name']}")


def _benchmark(result: dict, row: Row) -> str:
    return f"{result['profile']['name']}/{row.sink}"


def _measure(row: Row) -> str:
    """latency_p99, latency_p99_9, e2e_latency_max, ..."""
    name = row.metric.name.replace(".", "_")
    return f"e2e_latency_{name[4:]}" if row.metric.kind == "e2e" else f"latency_{name}"


def _cells(row: Row) -> tuple[str, str, str, str, str]:
    change = "n/a" if row.change is None else f"{row.change:+.1f}%"
    if row.low is not None:
        change += f" [{row.low:+.1f}, {row.high:+.1f}]"
    verdict = row.verdict
    if row.p_value is not None:
        verdict += " (p<0.001)" if row.p_value < 0.001 else f" (p={row.p_value:.3f})"
    return (row.label, _quantity(row.base, row.metric.unit) + _noise(row.base_noise),
            _quantity(row.new, row.metric.unit) + _noise(row.new_noise), change, verdict)


def _noise(percent: float | None) -> str:
    return "" if percent is None else f" ±{percent:.1f}%"


def _quantity(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "lines/s":
        return f"{value:,.0f} lines/s"
    if value < 1000:
        return f"{value:,.0f} µs"
    if value < 1_000_000:
        return f"{value / 1000:,.2f} ms"
    return f"{value / 1e6:,.2f} s"


def _run(result: dict) -> str:
    """When, how many runs, how long, which logstorm."""
    runs = len(result.get("repeats") or [None])
    logstorm = result["logstorm"]
    commit = "commit unknown"
    if "commit" in logstorm:
        commit = f"commit {logstorm['commit'][:10]}" + (" (dirty)" if logstorm.get("dirty") else "")
    return (f"{result['started']}, {runs} run{'s' if runs > 1 else ''}, {result['duration_s']:g} s, "
            f"logstorm {logstorm['version']}, {commit}")


def _summary(failing: list[str]) -> str:
    if not failing:
        return "No gated metric got worse."
    return f"{len(failing)} gated metric{'s' if len(failing) > 1 else ''} got worse: " + "; ".join(failing)
