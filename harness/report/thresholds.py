"""Thresholds: limits a run must keep, judged on its result file.

A threshold is a subject and a condition, as in a profile's table

    [thresholds]
    "kafka.p99" = "< 50ms"            # the kafka sink's publish latency, 99th percentile
    "kafka.failed" = "== 0"           # lines that failed delivery
    "kafka.achieved" = ">= 99% target" # delivered lines/s against the rate asked for
    "e2e.p99.9" = "< 500ms"           # end-to-end latency, on every sink that measured it

or on the command line as one string: --threshold "kafka.p99 < 50ms".

Subject: [SINK.][e2e.]METRIC. Without a sink it applies to every sink
(e2e.*: to every sink that measured end-to-end latency). Metrics:
  pN (any percentile: p50, p99.9, ...), max, mean  latency; limit with a unit: us, ms, s
  achieved                                         delivered lines/s, the mean of whole seconds after the first;
                                                   limit in lines/s ("10000", "10k/s") or
                                                   "N% target" (of the rate asked for)
  failed, lost, late, delivered                    line counts; "N%" is a share of the lines sent
Conditions: <, <=, >, >=, ==, != and a number. A threshold whose figure the
run does not have (no e2e measured, an unpaced run for "% target") fails:
a gate that cannot be checked must not pass quietly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from harness.errors import UserError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
}
DURATIONS = {"us": 1.0, "µs": 1.0, "ms": 1000.0, "s": 1_000_000.0}
COUNTS = ("failed", "lost", "late", "delivered")
LATENCY_NAMED = ("max", "mean")
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100)$")
CONDITION = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*([a-zµ/%]*?)\s*(target)?\s*$")
INLINE = re.compile(r"\s*([^<>=!\s]+)\s*((?:<=|>=|==|!=|<|>).*)$")
SI = {"": 1.0, "k": 1e3, "m": 1e6}  # lines/s: 10k/s, 2m/s
WHOLE_SECOND = 0.9  # a series record this long is one of the run's seconds (the last one is shorter)


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold; `limit` in the metric's unit (us, lines/s or lines),
    or a fraction when `relative` (of the target rate, or of the lines sent)."""

    name: str  # as written: "kafka.p99"
    condition: str  # as written: "< 50ms"
    sink: str | None  # None: every sink
    e2e: bool
    metric: str  # "p99.9", "max", "mean", "achieved", "failed", ...
    op: str
    limit: float
    relative: bool = False

    @property
    def unit(self) -> str:
        if self.metric == "achieved":
            return "lines/s"
        return "lines" if self.metric in COUNTS else "us"


@dataclass(frozen=True)
class Verdict:
    """A threshold judged on one sink of one result."""

    threshold: Threshold
    sink: str | None
    value: float | None  # the run's figure (None: not measured)
    limit: float  # absolute, in the threshold's unit
    passed: bool
    message: str  # "kafka.p99 = 61.3 ms, not < 50 ms (+23%)"

    def record(self) -> dict:
        """How a result file keeps it (results/schema.json "thresholds")."""
        t = self.threshold
        return {"name": t.name, "condition": t.condition, "sink": self.sink, "value": self.value,
                "limit": self.limit, "unit": t.unit, "passed": self.passed, "message": self.message}


# ---------------------------------------------------------------- parsing

def parse(name: str, condition: str) -> Threshold:
    """One threshold from its subject and condition (UserError naming both if either is wrong)."""
    shown = f'threshold "{name}" = "{condition}"'
    sink, e2e, metric = _subject(name, shown)
    match = CONDITION.match(condition) if isinstance(condition, str) else None
    if not match:
        raise UserError(f"{shown}: the condition must be an operator ({', '.join(OPERATORS)}) and a number, "
                        f'like "< 50ms" or ">= 99% target"')
    op, number, unit, target = match.groups()
    value = float(number)
    if metric == "achieved":
        limit, relative = _rate(value, unit, target, shown)
    elif target:
        raise UserError(f'{shown}: "target" goes only with achieved (a rate)')
    elif metric in COUNTS:
        if unit not in ("", "%"):
            raise UserError(f"{shown}: {metric} counts lines: give a number or a percentage of the lines sent, not {unit!r}")
        limit, relative = (value / 100, True) if unit == "%" else (value, False)
    else:
        if unit not in DURATIONS:
            what = f"not {unit!r}" if unit else "none given"
            raise UserError(f"{shown}: a latency needs a unit (us, ms or s), {what}")
        limit, relative = value * DURATIONS[unit], False
    return Threshold(name, condition, sink, e2e, metric, op, limit, relative)


def parse_inline(text: str, what: str = "threshold") -> Threshold:
    """'kafka.p99 < 50ms' (a --threshold or --slo value)."""
    match = INLINE.match(text)
    if not match:
        raise UserError(f'{what} "{text}": write a subject, an operator and a limit, like "kafka.p99 < 50ms"')
    return parse(match.group(1), match.group(2).strip())


def parse_table(table: Mapping[str, Any]) -> tuple[Threshold, ...]:
    """A profile's [thresholds] table. Unquoted dotted keys (kafka.p99 = ...)
    are nested tables in TOML: they are read back as the dotted name."""
    return tuple(parse(name, condition) for name, condition in flatten(table))


def flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        out.extend(flatten(value, f"{name}.") if isinstance(value, dict) else [(name, value)])
    return out


def _subject(name: str, shown: str) -> tuple[str | None, bool, str]:
    """[SINK.][e2e.]METRIC, read from the right since a percentile may hold a dot."""
    metric = re.search(r"(?:^|\.)(p\d+(?:\.\d+)?|\w+)$", name or "")
    known = f"pN (p50, p99, p99.9, ...), {', '.join(LATENCY_NAMED)}, achieved, {', '.join(COUNTS)}"
    if not metric:
        raise UserError(f"{shown}: the subject must be [SINK.][e2e.]METRIC with METRIC one of {known}")
    head, metric_name = name[:metric.start()], metric.group(1)
    percentile = PERCENTILE.match(metric_name)
    if metric_name not in (*LATENCY_NAMED, "achieved", *COUNTS) and not (percentile and float(percentile.group(1)) <= 100):
        raise UserError(f"{shown}: unknown metric {metric_name!r} (one of {known})")
    parts = head.split(".") if head else []
    e2e = bool(parts) and parts[-1] == "e2e"
    if e2e:
        parts.pop()
    if len(parts) > 1 or (parts and not parts[0]) or name.startswith("."):
        raise UserError(f"{shown}: the subject must be [SINK.][e2e.]METRIC, not {name!r}")
    if e2e and not (percentile or metric_name in LATENCY_NAMED):
        raise UserError(f"{shown}: e2e goes only with a latency (pN, max, mean), not {metric_name}")
    return (parts[0] if parts else None), e2e, metric_name


def _rate(value: float, unit: str, target: str | None, shown: str) -> tuple[float, bool]:
    if unit == "%":
        if not target:
            raise UserError(f'{shown}: a percentage of achieved is of the target rate: write "{value:g}% target"')
        return value / 100, True
    if target:
        raise UserError(f'{shown}: write the share of the target as a percentage, like ">= 99% target"')
    scale = unit.removesuffix("/s")
    if scale not in SI:
        raise UserError(f"{shown}: achieved is in lines/s (10000, 10k/s, 2m/s), not {unit!r}")
    return value * SI[scale], False


def check_sinks(thresholds: Iterable[Threshold], sinks: Iterable[str]) -> None:
    """Before a run: every threshold's sink must be one of the run's."""
    names = list(dict.fromkeys(sinks))
    for threshold in thresholds:
        if threshold.sink is not None and threshold.sink not in names:
            raise UserError(f'threshold "{threshold.name}": the run has no sink {threshold.sink!r} '
                            f"(its sinks: {', '.join(names)})")


# ---------------------------------------------------------------- judging

def judge(thresholds: Iterable[Threshold], result: Mapping[str, Any]) -> list[Verdict]:
    """Every threshold on every sink it names, from a result file's figures."""
    verdicts = []
    for threshold in thresholds:
        sinks = [s for s in result["sinks"] if threshold.sink in (None, s["name"])]
        if threshold.e2e and threshold.sink is None:
            sinks = [s for s in sinks if "e2e" in s["latency"]]
        if not sinks:
            why = "no sink measured end-to-end latency" if threshold.e2e else "the run has no such sink"
            verdicts.append(_unmeasured(threshold, threshold.sink, why))
        for sink in sinks:
            verdicts.append(_judge_sink(threshold, sink, result))
    return verdicts


def _judge_sink(threshold: Threshold, sink: Mapping[str, Any], result: Mapping[str, Any]) -> Verdict:
    figure = _figure(threshold, sink, result)
    if isinstance(figure, str):
        return _unmeasured(threshold, sink["name"], figure)
    value, limit = figure
    passed = OPERATORS[threshold.op](value, limit)
    subject = _subject_of(threshold, sink["name"])
    shown = f"{subject} = {quantity(value, threshold.unit)}"
    if passed:
        message = f"{shown} ({threshold.op} {quantity(limit, threshold.unit)})"
    else:
        message = f"{shown}, not {threshold.op} {quantity(limit, threshold.unit)} ({_by_how_much(value, limit, threshold.unit)})"
    return Verdict(threshold, sink["name"], value, limit, passed, message)


def _figure(threshold: Threshold, sink: Mapping[str, Any], result: Mapping[str, Any]) -> tuple[float, float] | str:
    """(the run's figure, the absolute limit), or why there is none."""
    if threshold.metric == "achieved":
        achieved = achieved_rate(result, sink)
        if achieved is None:
            return "no achieved rate (the run took no time)"
        if not threshold.relative:
            return achieved, threshold.limit
        target = target_rate(result, sink["name"])
        if target is None:
            return "the run had no target rate (it was not paced)"
        return achieved, threshold.limit * target
    if threshold.metric in COUNTS:
        count = lost(sink) if threshold.metric == "lost" else sink.get(threshold.metric, 0)
        return (count, threshold.limit * sink.get("sent", 0)) if threshold.relative else (count, threshold.limit)
    figures = sink["latency"].get("e2e" if threshold.e2e else "publish")
    if not figures or not figures.get("count"):
        return "not measured" if threshold.e2e else "no latency recorded"
    return latency_figure(figures, threshold.metric), threshold.limit


def lost(sink: Mapping[str, Any]) -> int:
    """Lines sent that did not arrive: failed, unsent, in doubt."""
    return sink.get("failed", 0) + sink.get("unsent", 0) + sink.get("in_doubt", 0)


def latency_figure(figures: Mapping[str, Any], metric: str) -> float:
    """max, mean or any percentile, in us; percentiles the result does not list come from its HdrHistogram."""
    key = metric.replace(".", "_")
    if figures.get(key) is not None:
        return figures[key]
    from harness.report.histogram import Histogram  # numpy: only for an unlisted percentile

    return Histogram.decode(figures["hdr"]).percentile(float(metric[1:]))


def target_rate(result: Mapping[str, Any], sink: str) -> float | None:
    """The mean rate asked of a sink over the run (lines/s), from the per-second series."""
    return _series_mean(result, sink, "target", whole_only=False)


def achieved_rate(result: Mapping[str, Any], sink: Mapping[str, Any]) -> float | None:
    """The steady delivered rate (lines/s): the mean of the run's whole
    seconds after its first. Over the whole span, a sink that keeps up still
    falls short by its latency (the last lines' acks land after the last
    second; start-up fills the first), which in a short run reads as a
    shortfall; second by second, a sink that keeps up delivers the rate.
    The run's own rate when it had no such second."""
    mean = _series_mean(result, sink["name"], "delivered", whole_only=True)
    return mean if mean is not None else sink.get("delivered_per_s")


def _series_mean(result: Mapping[str, Any], sink: str, field: str, whole_only: bool) -> float | None:
    total = seconds = 0.0
    for record in result.get("series", ()):
        span = record.get("seconds") or 1.0
        if whole_only and (span < WHOLE_SECOND or record["t"] <= 1.0):
            continue
        for entry in record["sinks"]:
            if entry["name"] == sink and entry.get(field) is not None:
                total += entry[field] * span
                seconds += span
    return total / seconds if seconds else None


def _unmeasured(threshold: Threshold, sink: str | None, why: str) -> Verdict:
    message = f"{_subject_of(threshold, sink)} {threshold.condition}: cannot be judged, {why}"
    return Verdict(threshold, sink, None, threshold.limit, False, message)


def _subject_of(threshold: Threshold, sink: str | None) -> str:
    """The subject with its sink: "p99" judged on kafka reads "kafka.p99"."""
    if threshold.sink is not None or sink is None:
        return threshold.name
    return f"{sink}.{threshold.name}"


def _by_how_much(value: float, limit: float, unit: str) -> str:
    """"11.3 ms over, +22.6%"; "150 lines/s under, -1.5%"."""
    side = "over" if value > limit else "under" if value < limit else "at the limit"
    gap = f"{quantity(abs(value - limit), unit)} {side}" if value != limit else side
    return f"{gap}, {(value - limit) / limit * 100:+.1f}%" if limit else gap


def quantity(value: float, unit: str) -> str:
    """50000 us as "50 ms", 12345.6 lines/s as "12,346 lines/s"."""
    if unit == "us":
        if value < 1000:
            return f"{value:,.0f} µs"
        return f"{value / 1000:.3g} ms" if value < 1_000_000 else f"{value / 1e6:,.2f}".rstrip("0").rstrip(".") + " s"
    if unit == "lines/s":
        return f"{value:,.0f} lines/s"
    return f"{value:,.0f} lines" if value != 1 else "1 line"


def failed(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.passed]
