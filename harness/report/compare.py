"""Comparing two results: per metric, the change and a verdict that accounts
for noise.

A change counts (better or worse) only when it is beyond the metric's
threshold AND, given enough samples on both sides, statistically significant
by a two-sided Mann-Whitney U test. The samples: per-repetition throughputs
when the runs were repeated, else the per-second achieved rates; per-second
p50/p99/p99.9 for latency (per-repetition values for the percentiles the
series lacks). With fewer than MIN_SAMPLES a side, the threshold alone
judges, and the row says so.

Thresholds are short strings parsed into Check objects: `5%` for every
metric, `throughput:5%,p99:10%` per metric. Gated metrics (those that make
--fail-on-regression fail) are throughput, p50 and p99, plus any metric
named in the threshold string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from harness.errors import UserError
from harness.report.hostinfo import COMPARABLE

ALPHA = 0.05
MIN_SAMPLES = 5
DEFAULT_PERCENT = 5.0
DEFAULT_GATED = ("throughput", "p50", "p99")
WHOLE_SECOND = 0.9  # shorter series records (the run's last moments) are not per-second samples

BETTER, WORSE, SAME, NOT_COMPARABLE = "better", "worse", "no significant change", "not comparable"
MISSING = "missing in the new run"


@dataclass(frozen=True)
class Metric:
    name: str  # as shown and as named in --threshold: "throughput", "p99", "e2e_p99"
    kind: str  # "throughput", or the latency kind: "publish", "e2e"
    key: str  # in the result's figures: "delivered_per_s", "p99", ...
    series_key: str | None  # the per-second field of the series, if any
    higher_is_better: bool
    unit: str  # "lines/s" or "us"


def _metrics() -> tuple[Metric, ...]:
    percentiles = (("p50", "p50", "p50_us"), ("p90", "p90", None), ("p99", "p99", "p99_us"),
                   ("p99.9", "p99_9", "p999_us"), ("max", "max", None))
    metrics = [Metric("throughput", "throughput", "delivered_per_s", "delivered", True, "lines/s")]
    metrics += [Metric(name, "publish", key, column, False, "us") for name, key, column in percentiles]
    # The series holds publish latency only: end-to-end samples are per repetition.
    metrics += [Metric(f"e2e_{name}", "e2e", key, None, False, "us") for name, key, _ in percentiles]
    return tuple(metrics)


METRICS = _metrics()
BY_NAME = {m.name: m for m in METRICS}
ALIASES = {"p99_9": "p99.9", "p999": "p99.9", "e2e_p99_9": "e2e_p99.9", "e2e_p999": "e2e_p99.9"}


@dataclass(frozen=True)
class Check:
    """How one metric is judged: its threshold in percent, and whether a
    regression in it fails the gate."""

    metric: str
    percent: float
    gated: bool

    def fails(self, row: Row) -> str | None:
        """A message when `row` fails the gate (worse, or gone), else None."""
        if not self.gated:
            return None
        if row.verdict == WORSE:
            return f"{row.label}: {row.change:+.1f}% (threshold {self.percent:g}%)"
        if row.verdict == MISSING:
            # A gate that passes because the metric vanished would hide any regression.
            return f"{row.label}: {MISSING}"
        return None


@dataclass(frozen=True)
class Thresholds:
    default: float = DEFAULT_PERCENT
    named: tuple[tuple[str, float], ...] = ()

    def check(self, metric: str) -> Check:
        named = dict(self.named)
        return Check(metric, named.get(metric, self.default), metric in named or metric in DEFAULT_GATED)

    def describe(self) -> str:
        gated = list(DEFAULT_GATED) + [m for m, _ in self.named if m not in DEFAULT_GATED]
        named = "".join(f", {m} {p:g}%" for m, p in self.named)
        return f"threshold {self.default:g}%{named}; gated: {', '.join(gated)}; significance: Mann-Whitney U, alpha {ALPHA:g}"


def parse_thresholds(text: str) -> Thresholds:
    """`5%`, `throughput:5%,p99:10%` or both (`5%,p99:10%`)."""
    default, named = DEFAULT_PERCENT, {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        metric, sep, amount = part.rpartition(":")
        percent = _percent(amount, part)
        if not sep:
            default = percent
            continue
        metric = ALIASES.get(metric.strip().lower(), metric.strip().lower())
        if metric not in BY_NAME:
            raise UserError(f"--threshold {part!r}: unknown metric {metric!r} (metrics: {', '.join(BY_NAME)})")
        named[metric] = percent
    return Thresholds(default, tuple(named.items()))


def _percent(text: str, part: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UserError(f"--threshold {part!r}: expected a percentage like 5% or METRIC:PERCENT like p99:10%")
    return value


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test: the normal approximation
    with tie and continuity corrections (as scipy's asymptotic method)."""
    n1, n2 = len(a), len(b)
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    n = n1 + n2
    rank_sum_a, ties, i = 0.0, 0.0, 0
    while i < n:
        j = i
        while j + 1 < n and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        average_rank = (i + j) / 2 + 1
        rank_sum_a += average_rank * sum(1 for k in range(i, j + 1) if pooled[k][1] == 0)
        tied = j - i + 1
        ties += tied**3 - tied
        i = j + 1
    u = rank_sum_a - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:  # every value equal
        return 1.0
    z = max(abs(u - mean) - 0.5, 0.0) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class Row:
    sink: str  # the sink's name ("file#2" for a second sink of one name)
    label: str  # "throughput", or "kafka p99" when the runs have several sinks
    metric: Metric
    base: float | None
    new: float | None
    change: float | None  # percent
    verdict: str
    gated: bool
    p_value: float | None  # None: not tested

    @property
    def tested(self) -> bool:
        return self.p_value is not None

    @property
    def threshold_only(self) -> bool:
        return self.change is not None and not self.tested and self.verdict in (BETTER, WORSE)


def judge(sink: str, label: str, metric: Metric, check: Check, base: float | None, new: float | None,
          base_samples: Sequence[float], new_samples: Sequence[float]) -> Row:
    if base is not None and new is None:
        return Row(sink, label, metric, base, new, None, MISSING, check.gated, None)
    if base is None or new is None or base == 0:
        return Row(sink, label, metric, base, new, None, NOT_COMPARABLE, check.gated, None)
    change = (new - base) / base * 100
    enough = min(len(base_samples), len(new_samples)) >= MIN_SAMPLES
    p_value = mann_whitney_p(base_samples, new_samples) if enough else None
    if abs(change) <= check.percent or (p_value is not None and p_value >= ALPHA):
        verdict = SAME
    else:
        verdict = BETTER if (change > 0) == metric.higher_is_better else WORSE
    return Row(sink, label, metric, base, new, change, verdict, check.gated, p_value)


def compare(base: dict, new: dict, thresholds: Thresholds) -> list[Row]:
    """One row per metric of each base sink (by name), "missing in the new
    run" where the new run lacks it; a UserError when no metric is in both."""
    rows = []
    several = max(len(base["sinks"]), len(new["sinks"])) > 1
    new_sinks = dict(_labelled(new["sinks"]))
    for label, old in _labelled(base["sinks"]):
        sink = new_sinks.get(label)
        for metric in METRICS:
            if metric.kind != "throughput" and metric.kind not in old["latency"]:
                continue  # e2e not measured in the base run (warnings() tells when the new run did)
            shown = f"{label} {metric.name}" if several else metric.name
            rows.append(judge(label, shown, metric, thresholds.check(metric.name), _figure(old, metric), _figure(sink, metric),
                              samples(base, label, metric), samples(new, label, metric)))
    if not any(row.base is not None and row.new is not None for row in rows):
        raise UserError(f"the runs have no metric in common: the base run has {_measured(base)}; "
                        f"the new run has {_measured(new)}")
    return rows


def _figure(sink: dict | None, metric: Metric) -> float | None:
    if sink is None:
        return None
    if metric.kind == "throughput":
        return sink[metric.key]
    figures = sink["latency"].get(metric.kind)
    return None if figures is None else figures[metric.key]


def _measured(result: dict) -> str:
    """A result's metrics with a value, per sink: "kafka (throughput, p50, ...)"."""
    sinks = [f"{label} ({', '.join(m.name for m in METRICS if _figure(sink, m) is not None) or 'none'})"
             for label, sink in _labelled(result["sinks"])]
    return ", ".join(sinks) or "no sinks"


def samples(result: dict, label: str, metric: Metric) -> list[float]:
    """The values a significance test compares for this metric (see the module's docstring)."""
    repeats = result.get("repeats") or []
    if len(repeats) > 1 and (metric.kind == "throughput" or metric.series_key is None):
        sinks = (dict(_labelled(run["sinks"])).get(label) for run in repeats)
        return [v for sink in sinks if sink is not None and (v := _figure(sink, metric)) is not None]
    if metric.series_key is None:
        return []
    labels = [name for name, _ in _labelled(result["sinks"])]
    if label not in labels:
        return []
    index = labels.index(label)
    found = []
    for record in result["series"]:
        seconds = record.get("seconds")
        if (seconds is not None and seconds < WHOLE_SECOND) or index >= len(record["sinks"]):
            continue
        figure = record["sinks"][index][metric.series_key]
        if figure is not None:
            found.append(figure)
    return found


def _labelled(sinks: list[dict]) -> list[tuple[str, dict]]:
    """Sinks by name; a second sink of the same name is "name#2"."""
    seen: dict[str, int] = {}
    labelled = []
    for sink in sinks:
        seen[sink["name"]] = seen.get(sink["name"], 0) + 1
        count = seen[sink["name"]]
        labelled.append((sink["name"] if count == 1 else f"{sink['name']}#{count}", sink))
    return labelled


def warnings(base: dict, new: dict) -> list[str]:
    """Why the two results may not be comparable: other hosts, profiles or
    sinks, or a run that did not end well."""
    found = []
    differ = [f"{key} {base['host'].get(key)!r} vs {new['host'].get(key)!r}" for key in COMPARABLE
              if key in base["host"] and key in new["host"] and base["host"][key] != new["host"][key]]
    if differ:
        found.append("the runs come from different hosts: " + ", ".join(differ))
    if base["profile"]["hash"] != new["profile"]["hash"]:
        found.append(f"the runs come from different profiles: {base['profile']['name']} ({base['profile']['hash'][7:19]}) "
                     f"vs {new['profile']['name']} ({new['profile']['hash'][7:19]})")
    base_sinks, new_sinks = dict(_labelled(base["sinks"])), dict(_labelled(new["sinks"]))
    found += [f"sink {label} is only in the base run: not compared" for label in base_sinks if label not in new_sinks]
    found += [f"sink {label} is only in the new run: not compared" for label in new_sinks if label not in base_sinks]
    for label in base_sinks.keys() & new_sinks.keys():
        measured = [side for side, s in (("base", base_sinks[label]), ("new", new_sinks[label])) if "e2e" in s["latency"]]
        if len(measured) == 1:
            found.append(f"sink {label}: end-to-end latency was measured in the {measured[0]} run only: not compared")
    for side, result in (("base", base), ("new", new)):
        if result["interrupted"]:
            found.append(f"the {side} run was interrupted")
        if result["status"]:
            found.append(f"the {side} run ended with status {result['status']}" +
                         (f": {result['errors'][0]}" if result["errors"] else ""))
    return found


def notes(rows: list[Row]) -> list[str]:
    """What a reader needs to know to trust the verdicts."""
    found = []
    few = [row.label for row in rows if row.threshold_only]
    if few:
        found.append(f"judged by the threshold alone (fewer than {MIN_SAMPLES} samples a side for a significance test): "
                     + ", ".join(few))
    ungated = [row.label for row in rows if row.verdict == WORSE and not row.gated]
    if ungated:
        found.append("worse but not gated (name it in --threshold to gate it): " + ", ".join(ungated))
    return found


def regressions(rows: list[Row], thresholds: Thresholds) -> list[str]:
    return [message for row in rows if (message := thresholds.check(row.metric.name).fails(row))]

