"""Find the highest rate a target sustains within an SLO.

    logstorm find-rate smoke --slo "kafka.p99 < 200ms" --from 5000 --to 80000
    logstorm find-rate my.toml --slo "kafka.p99 < 20ms" --slo "e2e.p99.9 < 200ms" --from 5000 --to 200000

Short paced runs of the profile's load and sinks at rising rates (doubling
from --from), then a bisection between the highest rate that held and the
lowest that missed, until they are within 5 %. A step holds when every SLO
is kept (the threshold syntax of [thresholds]: `logstorm run --help`), the
achieved rate is at least 99 % of the rate asked and nothing was lost; a
miss counts once it repeats.
Prints the table of steps and the answer, and writes a result file (the
best step's run, with every step under "find_rate") that `logstorm report`
charts as latency against rate. Ctrl-C stops and reports the best rate so
far. Exit status 3 when no rate tried held.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from typing import Any, Sequence

from harness.options import number

EXAMPLES = """\
A step holds when every --slo is kept, the achieved rate is at least 99 % of
the rate asked and nothing was lost; rates double from --from until a step
misses (twice in a row), then bisect to within 5 %. Exit 3 when no rate held.

examples:
  logstorm find-rate smoke --slo "kafka.p99 < 200ms" --from 5000 --to 80000
  logstorm find-rate my.toml --slo "p99 < 20ms" --slo "e2e.p99.9 < 200ms" --step-seconds 10
"""
HOLDS = (("achieved", ">= 99% target"), ("lost", "== 0"))
NONE_HELD = 3


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    from harness.profiles.overrides import add_set_argument
    from harness.report.thresholds import parse_inline

    parser.add_argument("profile", metavar="NAME|PATH", help="a profile name (logstorm profiles) or a TOML file: its load and sinks")
    parser.add_argument("--slo", action="append", required=True, metavar='"SUBJECT OP LIMIT"',
                        type=lambda text: parse_inline(text, "--slo"), help='what each step must keep, like "p99 < 50ms"; repeatable')
    parser.add_argument("--from", dest="start", type=number(float, 0, low_open=True), default=1000.0, metavar="RATE",
                        help="the first rate tried, lines/s (default 1000)")
    parser.add_argument("--to", dest="ceiling", type=number(float, 0, low_open=True), default=None, metavar="RATE",
                        help="the highest rate tried (default: no limit)")
    parser.add_argument("--step-seconds", type=number(float, 2), default=5.0, metavar="S",
                        help="length of each step, at least 2 s: the achieved rate is that of the seconds after the first (default 5 s)")
    parser.add_argument("--results", default=None, metavar="DIR", help="folder for the result file (default: the profile's, results/)")
    add_set_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.errors import UserError
    from harness.load.ratesearch import RateSearch
    from harness.profiles.profile import load_profile
    from harness.report.results import build_result, check_result_folder, redact, write_result
    from harness.report.thresholds import check_sinks, parse
    from harness.run.supervisor import supervise

    if args.ceiling is not None and args.ceiling < args.start:
        raise UserError(f"--to {args.ceiling:g} is below --from {args.start:g}")
    profile = load_profile(args.profile, args.set, {})
    check_sinks(args.slo, [s.name for s in profile.sinks])
    gates = tuple(args.slo) + tuple(parse(name, condition) for name, condition in HOLDS)
    name, folder = f"{profile.name}-find-rate", args.results or profile.results
    check_result_folder(folder, name)
    resolved = redact(profile.resolved())
    search = RateSearch(args.start, args.ceiling)
    steps: list[dict] = []
    best: dict | None = None
    print(f"find-rate {profile.name}: {', '.join(f'{t.name} {t.condition}' for t in args.slo)}; "
          f"{args.step_seconds:g} s a step", file=sys.stderr)
    while (rate := search.next()) is not None:
        spec = _step_spec(profile.to_runspec(), rate, args.step_seconds)
        outcome = supervise(spec)
        result = build_result(name, resolved, outcome, spec)
        step = _judged(rate, result, gates)
        if outcome.interrupted:
            print(f"  {rate:>12,.0f} lines/s  interrupted", file=sys.stderr)
            break
        steps.append(step)
        print(f"  {_row(step)}", file=sys.stderr)
        search.record(rate, step["passed"])
        if step["passed"] and rate == search.answer:
            best = result
    answer = search.answer
    final = dict(best or result)
    final["find_rate"] = {"slo": [f"{t.name} {t.condition}" for t in args.slo], "steps": steps, "answer": answer,
                          "step_seconds": args.step_seconds, "interrupted": outcome.interrupted}
    path = write_result(final, folder, name)
    sys.stdout.write(table(steps, answer, args.slo))
    print(f"result: {path}", file=sys.stderr)
    return 0 if answer is not None else NONE_HELD


def _step_spec(spec: Any, rate: float, seconds: float) -> Any:
    """The profile's run, paced at `rate` for `seconds`: exactly the lines due."""
    from harness.load.schedule import constant

    return replace(spec, rate=rate, schedule=constant(rate), duration=seconds, lines=math.floor(rate * seconds), quiet=True)


def _judged(rate: float, result: dict, gates: Sequence[Any]) -> dict:
    """One step: its worst sink's figures and whether every gate held."""
    from harness.report.thresholds import achieved_rate, judge

    verdicts = judge(gates, result)
    sinks = result["sinks"]
    worst = {key: _most(s["latency"]["publish"].get(field) for s in sinks)
             for key, field in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99_9"))}
    achieved = [steady for s in sinks if (steady := achieved_rate(result, s)) is not None]
    return {"rate": rate, "achieved": min(achieved) if achieved else None, **worst,
            "failed": sum(s["failed"] + s.get("unsent", 0) + s.get("in_doubt", 0) for s in sinks),
            "passed": all(v.passed for v in verdicts), "why": [v.message for v in verdicts if not v.passed]}


def _most(values: Any) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _row(step: dict) -> str:
    from harness.report.thresholds import quantity

    achieved = "n/a" if step["achieved"] is None else f"{step['achieved']:,.0f}/s"
    p99 = "n/a" if step["p99_us"] is None else quantity(step["p99_us"], "us")
    verdict = "held" if step["passed"] else "missed: " + "; ".join(step["why"])
    return f"{step['rate']:>12,.0f} lines/s  achieved {achieved:>11}  p99 {p99:>9}  lost {step['failed']:,}  {verdict}"


def table(steps: Sequence[dict], answer: float | None, slo: Sequence[Any]) -> str:
    """The steps in the order of their rates, and the answer."""
    lines = [_row(step) for step in sorted(steps, key=lambda step: step["rate"])]
    kept = ", ".join(f"{t.name} {t.condition}" for t in slo)
    if answer is None:
        lines.append(f"no rate tried held ({kept}; achieved >= 99% of the rate asked; nothing lost): try a lower --from")
    else:
        lines.append(f"highest rate that held: {answer:,.0f} lines/s ({kept}; achieved >= 99% of the rate asked; nothing lost)")
    return "\n".join(lines) + "\n"
