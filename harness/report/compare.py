"""Comparing two results: per metric, the change, its confidence interval,
the noise within each side, and a verdict that accounts for that noise.

The samples are repetitions, independent runs of one profile (a folder of
runs, or a file of `profile.repeat` runs): each run's throughput, p50, p99
... is one sample. The change is that of the medians, shown with the 95 %
interval of new/base by Hodges-Lehmann (from the pairwise ratios); a
change is "better" or "worse" only when that whole interval lies beyond the
metric's threshold, which also makes it significant by the two-sided Mann-Whitney U
test (alpha 0.05, exact for small samples). One run a side is not judged:
the seconds of a run are not independent samples (a slow second is
followed by a slow second), so only the change is shown. Runs too few to
reach alpha (3 against 3) are not judged either.

Thresholds are short strings parsed into Check objects: `5%` for every
metric, `throughput:5%,p99:10%` per metric. Gated metrics (those that make
--fail-on-regression fail) are throughput, p50 and p99, plus any metric
named in the threshold string.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from harness.errors import UserError
from harness.report.hostinfo import differences
from harness.report.significance import min_p_value, noise, shift

ALPHA = 0.05
DEFAULT_PERCENT = 5.0
DEFAULT_GATED = ("throughput", "p50", "p99")

BETTER, WORSE, SAME, NOT_COMPARABLE = "better", "worse", "no significant change", "not comparable"
MISSING = "missing in the new run"
UNJUDGED = "cannot judge"


@dataclass(frozen=True)
class Metric:
    name: str  # as shown and as named in --threshold: "throughput", "p99", "e2e_p99"
    kind: str  # "throughput", or the latency kind: "publish", "e2e"
    key: str  # in the result's figures: "delivered_per_s", "p99", ...
    higher_is_better: bool
    unit: str  # "lines/s" or "us"


def _metrics() -> tuple[Metric, ...]:
    percentiles = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99.9", "p99_9"), ("max", "max"))
    metrics = [Metric("throughput", "throughput", "delivered_per_s", True, "lines/s")]
    metrics += [Metric(name, "publish", key, False, "us") for name, key in percentiles]
    metrics += [Metric(f"e2e_{name}", "e2e", key, False, "us") for name, key in percentiles]
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
            return f"{row.label}: {row.change:+.1f}% (95% CI {row.low:+.1f}% to {row.high:+.1f}%; threshold {self.percent:g}%)"
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
        return (f"threshold {self.default:g}%{named}; gated: {', '.join(gated)}; a verdict needs the whole "
                f"{1 - ALPHA:.0%} interval beyond the threshold (Hodges-Lehmann, Mann-Whitney U, alpha {ALPHA:g}, per repetition)")


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


@dataclass(frozen=True)
class Row:
    sink: str  # the sink's name ("file#2" for a second sink of one name)
    label: str  # "throughput", or "kafka p99" when the runs have several sinks
    metric: Metric
    base: float | None  # the median of the repetitions, or the one run's figure
    new: float | None
    change: float | None  # percent
    verdict: str
    gated: bool
    p_value: float | None  # None: not tested
    low: float | None = None  # the change's confidence interval, percent
    high: float | None = None
    base_noise: float | None = None  # standard deviation over mean within each side, percent
    new_noise: float | None = None
    runs: tuple[int, int] = (1, 1)


def judge(sink: str, label: str, metric: Metric, check: Check, base_samples: Sequence[float],
          new_samples: Sequence[float]) -> Row:
    """The row of one metric from its per-repetition values on each side."""
    base = statistics.median(base_samples) if base_samples else None
    new = statistics.median(new_samples) if new_samples else None
    sizes = (len(base_samples), len(new_samples))
    if base is not None and new is None:
        return Row(sink, label, metric, base, new, None, MISSING, check.gated, None, runs=sizes)
    if base is None or new is None or base == 0:
        return Row(sink, label, metric, base, new, None, NOT_COMPARABLE, check.gated, None, runs=sizes)
    spread = {"base_noise": noise(base_samples), "new_noise": noise(new_samples), "runs": sizes}
    change = (new - base) / base * 100  # of the medians shown, so a reader can check it
    found = shift(base_samples, new_samples, ALPHA)
    if found is None:
        return Row(sink, label, metric, base, new, change, UNJUDGED, check.gated, None, **spread)
    verdict = SAME
    beyond = found.low > check.percent or found.high < -check.percent
    if beyond and found.p_value < ALPHA:
        verdict = BETTER if (found.low > 0) == metric.higher_is_better else WORSE
    return Row(sink, label, metric, base, new, change, verdict, check.gated, found.p_value, found.low, found.high, **spread)


def compare(base: dict, new: dict, thresholds: Thresholds) -> list[Row]:
    """One row per metric of each base sink (by name), "missing in the new
    run" where the new run lacks it; a UserError when no metric is in both."""
    rows = []
    several = max(len(base["sinks"]), len(new["sinks"])) > 1
    for label, old in _labelled(base["sinks"]):
        for metric in METRICS:
            if metric.kind != "throughput" and metric.kind not in old["latency"]:
                continue  # e2e not measured in the base run (warnings() tells when the new run did)
            shown = f"{label} {metric.name}" if several else metric.name
            rows.append(judge(label, shown, metric, thresholds.check(metric.name),
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
    """The metric's value in each repetition of `result` (one value for a single run)."""
    runs = result.get("repeats") or [result]
    sinks = (dict(_labelled(run["sinks"])).get(label) for run in runs)
    return [value for sink in sinks if (value := _figure(sink, metric)) is not None]


def measures(result: dict) -> str:
    """What the runs measure: capacity (unpaced), or latency at a fixed load."""
    resolved = result["profile"].get("resolved") or {}
    load = resolved.get("load", resolved)
    if load.get("schedule"):
        return "latency under a schedule (throughput follows it)"
    if load.get("rate"):
        return f"latency at a fixed load of {load['rate']:,g} lines/s (throughput is the target)"
    return "capacity: unpaced, as fast as the lines go (latency is queueing)"


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
    differ = differences(base["host"], new["host"])
    if differ:
        found.append("the runs come from different hosts: " + ", ".join(differ))
    found += _provenance(base["logstorm"], new["logstorm"])
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


def _provenance(base: dict, new: dict) -> list[str]:
    """A baseline from uncommitted code or another version measures something else."""
    found = []
    if base.get("dirty"):
        found.append(f"the base run comes from a tree with uncommitted changes (commit {base.get('commit', '?')[:10]}): "
                     "record the baseline from a clean checkout (logstorm baseline save)")
    if base.get("version") != new.get("version"):
        found.append(f"the runs come from different logstorm versions: {base.get('version')} vs {new.get('version')}")
    return found


def notes(rows: list[Row]) -> list[str]:
    """What a reader needs to know to trust the verdicts."""
    found = []
    unjudged = [row for row in rows if row.verdict == UNJUDGED]
    if unjudged:
        found.append(f"cannot judge {', '.join(row.label for row in unjudged)}: {why_unjudged(unjudged[0].runs)}")
    ungated = [row.label for row in rows if row.verdict == WORSE and not row.gated]
    if ungated:
        found.append("worse but not gated (name it in --threshold to gate it): " + ", ".join(ungated))
    return found


def why_unjudged(runs: tuple[int, int]) -> str:
    enough = next(n for n in range(2, 100) if min_p_value(n, n) < ALPHA)
    if min(runs) < 2:
        return ("one run is one sample: its seconds are not independent (a slow second is followed by a slow second); "
                f"only the change is shown. Repeat the runs, at least {enough} a side (profile.repeat), for a verdict")
    return f"{runs[0]} against {runs[1]} runs cannot reach significance at alpha {ALPHA:g}; at least {enough} a side can"


def unjudged_gates(rows: list[Row]) -> list[str]:
    """Gated metrics that could not be judged: a gate on them would pass blindly."""
    return [row.label for row in rows if row.gated and row.verdict == UNJUDGED]


def regressions(rows: list[Row], thresholds: Thresholds) -> list[str]:
    return [message for row in rows if (message := thresholds.check(row.metric.name).fails(row))]

