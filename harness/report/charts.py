"""What the HTML report draws, worked out from result files: a list of
charts, each a title, its units and its lines (x and y columns), as plain
data that harness/report/assets/report.js hands to uPlot.

    {"title", "kind": "time" | "percentile" | "bars" | "rate", "y": UNIT, "y2": UNIT | None,
     "categories": [...] (bars), "lines": [{"label", "run", "x", "y", "axis": 1 | 2, "dash"}]}

UNIT is "lines/s", "ms", "lines", "s" or "%". A run is one result file (its
index in the report); a result that combines repetitions draws one line per
repetition, a merged result given with its shards' files (fold_shards) one
line per shard besides the total.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.report.histogram import COUNTS_LEN, LOWEST_VALUES, WIDTHS, Histogram

PERCENTILE_POINTS = 160
LATENCY_COLUMNS = (("p50", "p50_us"), ("p99", "p99_us"), ("p99.9", "p999_us"), ("max", "max_us"))


def charts(results: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Every chart of the report, for one result or several drawn together."""
    out: list[dict] = []
    for sink in _sink_names(results):
        out += [_rate_chart(results, sink), _latency_chart(results, sink), _distribution_chart(results, sink),
                _failure_chart(results, sink)]
    out += [_bad_chart(results), _ring_chart(results)]
    if any("find_rate" in result for result in results):
        out.insert(0, _find_rate_chart(results))
    return [chart for chart in out if chart["lines"]]


def fold_shards(results: Sequence[Mapping[str, Any]]) -> list[dict]:
    """A merged result given with its shards' own result files
    (`logstorm report merged.json shard-*.json`): each shard's series goes
    under the merged result's entry for it, to be drawn as that result's
    per-shard lines, and the shard files are not drawn as runs of their own.
    (The merged file keeps no per-shard series of its own.)"""
    out = [dict(result) for result in results]
    merged = [result for result in out if isinstance(result.get("shards"), list)]
    folded: set[int] = set()
    for whole in merged:
        whole["shards"] = [dict(entry) for entry in whole["shards"]]
        for i, result in enumerate(out):
            shard = result.get("shard")
            if not isinstance(shard, dict) or result["profile"]["hash"] != whole["profile"]["hash"]:
                continue
            for entry in whole["shards"]:
                if entry.get("index") == shard.get("index") and "series" not in entry:
                    entry["series"] = result["series"]
                    folded.add(i)
    return [result for i, result in enumerate(out) if i not in folded]


def _sink_names(results: Iterable[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(sink["name"] for result in results for sink in result["sinks"]))


def _line(label: str, run: int, x: Sequence[float], y: Sequence[float | None], axis: int = 1, dash: bool = False) -> dict:
    return {"label": label, "run": run, "x": list(x), "y": list(y), "axis": axis, "dash": dash}


def _parts(result: Mapping[str, Any]) -> list[tuple[str, list[dict]]]:
    """The per-second records to draw as separate lines: each repetition of a
    combined file, each shard of a merged one (and their total), else all."""
    shards = result.get("shards")
    drawn = [s for s in shards if isinstance(s, dict) and "series" in s] if isinstance(shards, list) else []
    if drawn:
        return [("total", result["series"])] + [(f"shard {s.get('index', i)}", s["series"]) for i, s in enumerate(drawn)]
    repeats = sorted({record.get("repeat", 0) for record in result["series"]})
    if len(repeats) <= 1:
        return [("", list(result["series"]))]
    return [(f"rep {r + 1}", [rec for rec in result["series"] if rec.get("repeat", 0) == r]) for r in repeats]


def _named(part: str, what: str) -> str:
    """"p99", or "rep 2 · p99" for a part of a run (report.js adds the run's name when runs are overlaid)."""
    return " · ".join(piece for piece in (part, what) if piece)


def _per_sink(results: Sequence[Mapping[str, Any]], sink: str,
              columns: Sequence[tuple[str, str, float, int, bool]]) -> list[dict]:
    """Time lines of one sink: for each (what, field, scale, axis, dash) a line per run and part."""
    lines = []
    for run, result in enumerate(results):
        for part, records in _parts(result):
            entries = [(rec["t"], entry) for rec in records for entry in rec["sinks"] if entry["name"] == sink]
            if not entries:
                continue
            x = [t for t, _ in entries]
            for what, field, scale, axis, dash in columns:
                y = [None if entry.get(field) is None else round(entry[field] * scale, 3) for _, entry in entries]
                if any(v is not None for v in y):
                    lines.append(_line(_named(part, what), run, x, y, axis, dash))
    return lines


def _rate_chart(results: Sequence[Mapping[str, Any]], sink: str) -> dict:
    lines = _per_sink(results, sink, (("target", "target", 1.0, 1, True), ("achieved", "delivered", 1.0, 1, False)))
    return {"title": f"{sink}: target and achieved rate", "kind": "time", "y": "lines/s", "y2": None, "lines": lines}


def _latency_chart(results: Sequence[Mapping[str, Any]], sink: str) -> dict:
    columns = [(what, field, 0.001, 1, False) for what, field in LATENCY_COLUMNS]
    return {"title": f"{sink}: publish latency over time", "kind": "time", "y": "ms", "y2": None,
            "lines": _per_sink(results, sink, columns)}


def _failure_chart(results: Sequence[Mapping[str, Any]], sink: str) -> dict:
    lines = _per_sink(results, sink, (("failed", "failed", 1.0, 1, False), ("late", "late", 1.0, 1, True),
                                      ("lag", "lag_s", 1.0, 2, False)))
    return {"title": f"{sink}: failures and lag", "kind": "time", "y": "lines", "y2": "s", "lines": lines}


def _distribution_chart(results: Sequence[Mapping[str, Any]], sink: str) -> dict:
    """Latency by percentile, the tail stretched as HdrHistogram's plotter
    draws it: x is 1/(1-p) on a log scale, so 90 %, 99 %, 99.9 % are evenly spaced."""
    lines = []
    for run, result in enumerate(results):
        for entry in result["sinks"]:
            if entry["name"] != sink:
                continue
            for kind, figures in entry["latency"].items():
                if figures.get("count") and figures.get("hdr"):
                    x, y = percentile_curve(Histogram.decode(figures["hdr"]))
                    lines.append(_line(_named("", kind), run, x, y, dash=kind == "e2e"))
    return {"title": f"{sink}: latency by percentile", "kind": "percentile", "y": "ms", "y2": None, "lines": lines}


def percentile_curve(histogram: Histogram, points: int = PERCENTILE_POINTS) -> tuple[list[float], list[float]]:
    """(1/(1-p), latency in ms) from p = 0 to the last recorded value, log-spaced in 1/(1-p)."""
    counts = histogram.counts[:COUNTS_LEN]
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    spread = np.logspace(0, np.log10(max(total, 1)), points)
    percentile = 1 - 1 / spread
    ranks = np.maximum(np.ceil(percentile * total - 1e-9), 1).astype(np.int64)
    index = np.searchsorted(cumulative, ranks)
    values = (LOWEST_VALUES[index] + WIDTHS[index] - 1) / 1000
    return [round(float(v), 4) for v in spread], [round(float(v), 3) for v in values]


def _bad_chart(results: Sequence[Mapping[str, Any]]) -> dict:
    kinds = sorted({kind for result in results for kind in result["totals"]["bad"]})
    lines = [_line("bad lines", run, range(len(kinds)), [result["totals"]["bad"].get(kind, 0) for kind in kinds])
             for run, result in enumerate(results)] if kinds else []
    return {"title": "bad lines by kind", "kind": "bars", "y": "lines", "y2": None, "categories": kinds, "lines": lines}


def _ring_chart(results: Sequence[Mapping[str, Any]]) -> dict:
    """Each generator's ring each second (older result files keep only the fullest one)."""
    lines = []
    for run, result in enumerate(results):
        for part, records in _parts(result):
            x = [rec["t"] for rec in records]
            generators = max((len(rec.get("ring_fills", ())) for rec in records), default=0)
            columns = [(f"generator {g}", [_fill(rec.get("ring_fills", ())[g:g + 1]) for rec in records])
                       for g in range(generators)] or [("ring fill", [_fill([rec.get("ring_fill")]) for rec in records])]
            lines.extend(_line(_named(part, name), run, x, y) for name, y in columns if any(v is not None for v in y))
    return {"title": "ring fill per generator", "kind": "time", "y": "%", "y2": None, "lines": lines}


def _fill(values: Sequence[float | None]) -> float | None:
    return None if not values or values[0] is None else round(values[0] * 100, 2)


def _find_rate_chart(results: Sequence[Mapping[str, Any]]) -> dict:
    """find-rate: each step's latency against the rate it asked for, and what it achieved."""
    lines = []
    for run, result in enumerate(results):
        steps = sorted(result.get("find_rate", {}).get("steps", ()), key=lambda step: step["rate"])
        if not steps:
            continue
        x = [step["rate"] for step in steps]
        for what, field in (("p50", "p50_us"), ("p99", "p99_us"), ("p99.9", "p999_us")):
            lines.append(_line(_named("", what), run, x,
                               [None if step.get(field) is None else step[field] / 1000 for step in steps]))
        lines.append(_line(_named("", "achieved"), run, x, [step.get("achieved") for step in steps],
                           axis=2, dash=True))
    return {"title": "find-rate: latency and achieved rate against the rate asked", "kind": "rate", "y": "ms",
            "y2": "lines/s", "lines": lines}
