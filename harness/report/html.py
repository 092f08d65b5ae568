"""The HTML report: one self-contained file that opens offline.

Everything is inline: uPlot (vendored under assets/, see assets/README.md),
our report.js and styles, and the chart data as JSON. A Content-Security-
Policy forbids every fetch, so a report can never reach the network. The
facts and tables are written here; the charts (harness/report/charts.py
says what they hold) are drawn by report.js when the page loads.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Mapping, Sequence

import orjson

from harness.report.charts import charts
from harness.report.thresholds import quantity

OVERLAY, SIDE = "overlay", "side"
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Comparison:
    """compare's verdict table, as compare prints it."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    notes: Sequence[str] = field(default_factory=tuple)
    summary: str = ""
    worse: Sequence[int] = field(default_factory=tuple)  # rows that got worse


def asset(name: str) -> str:
    return files("harness.report").joinpath("assets", name).read_text("utf-8")


def render(runs: Sequence[tuple[str, Mapping[str, Any]]], *, title: str | None = None, layout: str = OVERLAY,
           comparison: Comparison | None = None) -> str:
    """The page for (label, result) pairs: overlaid in each chart, or side by side."""
    results = [{**result, "label": label} for label, result in runs]
    data = {"layout": layout, "runs": [{"label": label} for label, _ in runs], "charts": charts(results)}
    title = title or "logstorm report: " + ", ".join(dict.fromkeys(r["profile"]["name"] for r in results))
    body = [f"<h1>{_e(title)}</h1>"]
    if comparison is not None:
        body.append(_comparison(comparison))
    for result in results:
        body.append(_facts(result))
    body.append('<h2>Charts</h2>\n<div id="charts"></div>')
    return PAGE.format(csp=CSP, title=_e(title), css=asset("uPlot.min.css") + asset("report.css"), body="\n".join(body),
                       data=_script_json(data), uplot=asset("uPlot.iife.min.js"), report=asset("report.js"))


def _script_json(data: Any) -> str:
    """JSON safe inside <script>: no "</" can close the element early."""
    return orjson.dumps(data).decode().replace("</", "<\\/").replace("<!--", "<\\!--")


def _e(text: Any) -> str:
    return html.escape(str(text))


def _facts(result: Mapping[str, Any]) -> str:
    host, logstorm = result.get("host", {}), result.get("logstorm", {})
    commit = logstorm.get("commit", "unknown")[:12] + (" (dirty)" if logstorm.get("dirty") else "")
    runs = len(result.get("repeats") or [None])
    facts = [("profile", result["profile"]["name"]), ("seed", result.get("seed")), ("started", result["started"]),
             ("duration", f"{result['duration_s']:g} s" + (f" ({runs} runs)" if runs > 1 else "")),
             ("status", result["status"]),
             ("host", f"{host.get('hostname', '?')}: {host.get('cpu_model') or 'cpu unknown'}, {host.get('cores', '?')} cores"),
             ("logstorm", f"{logstorm.get('version', '?')}, commit {commit}"),
             ("generated", _generated(result))]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    parts = [f"<h2>{_e(result['label'])}</h2>", f'<table class="facts">{rows}</table>', _sinks(result)]
    if isinstance(result.get("shards"), list):
        parts.append(_shards(result["shards"]))
    if result.get("thresholds"):
        parts.append(_thresholds(result["thresholds"]))
    if result.get("find_rate"):
        parts.append(_find_rate(result["find_rate"]))
    if result.get("errors"):
        parts.append("<h3>Errors</h3><ul>" + "".join(f"<li>{_e(e)}</li>" for e in result["errors"]) + "</ul>")
    return "\n".join(parts)


def _generated(result: Mapping[str, Any]) -> str:
    totals, rate = result["totals"], result["throughput"]["generated_per_s"]
    bad = sum(totals["bad"].values())
    return (f"{totals['generated']:,} lines" + (f" at {rate:,.0f} lines/s" if rate else "") +
            (f", {bad:,} bad on purpose" if bad else ""))


def _sinks(result: Mapping[str, Any]) -> str:
    header = ("sink", "delivered", "failed", "unsent", "in doubt", "late", "lines/s", "p50", "p99", "p99.9", "max")
    rows = []
    for sink in result["sinks"]:
        for kind, figures in sink["latency"].items():
            counts = [sink["delivered"], sink["failed"], sink.get("unsent", 0), sink.get("in_doubt", 0), sink["late"]]
            rate = sink.get("delivered_per_s")
            cells = [f"{n:,}" for n in counts] + [f"{rate:,.0f}" if rate else "n/a"]
            if kind != "publish":
                cells = [""] * len(cells)
            cells += [quantity(figures[key], "us") if figures.get(key) is not None else "n/a"
                      for key in ("p50", "p99", "p99_9", "max")]
            name = sink["name"] + ("" if kind == "publish" else f" ({kind})")
            rows.append(f"<tr><td>{_e(name)}</td>" + "".join(f'<td class="n">{_e(c)}</td>' for c in cells) + "</tr>")
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    return f'<table class="sinks"><tr>{head}</tr>{"".join(rows)}</table>'


def _shards(shards: Sequence[Mapping[str, Any]]) -> str:
    """A merged result's shards: where each ran and how it ended."""
    rows = []
    for shard in shards:
        host = shard.get("node") or (shard.get("host") or {}).get("hostname", "?")
        state = shard.get("state", "?")
        rows.append(f'<tr><td class="n">{_e(shard.get("index"))}</td><td class="{"pass" if state == "ok" else "fail"}">'
                    f'{_e(state)}</td><td>{_e(host)}</td><td class="n">{shard.get("generated") or 0:,}</td>'
                    f'<td>{_e(shard.get("started") or "")}</td><td>{_e("; ".join(shard.get("errors") or ()))}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("shard", "state", "host", "generated", "started", "errors"))
    return f'<h3>Shards</h3><table class="shards"><tr>{head}</tr>{"".join(rows)}</table>'


def _thresholds(thresholds: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f'<tr><td class="{"pass" if t["passed"] else "fail"}">{"met" if t["passed"] else "FAILED"}</td>'
        f'<td>{_e(t["name"])} {_e(t["condition"])}</td><td>{_e(t["message"])}</td></tr>' for t in thresholds)
    return f'<h3>Thresholds</h3><table class="thresholds"><tr><th></th><th>threshold</th><th>outcome</th></tr>{rows}</table>'


def _find_rate(found: Mapping[str, Any]) -> str:
    answer = found.get("answer")
    said = f"highest sustained rate: {answer:,.0f} lines/s" if answer else "no rate tried kept the SLO"
    rows = "".join(
        f'<tr><td class="n">{step["rate"]:,.0f}</td><td class="n">{_rate(step.get("achieved"))}</td>'
        f'<td class="n">{_us(step.get("p99_us"))}</td><td class="n">{step.get("failed", 0):,}</td>'
        f'<td class="{"pass" if step["passed"] else "fail"}">{"kept" if step["passed"] else "missed"}</td>'
        f'<td>{_e("; ".join(step.get("why", ())))}</td></tr>' for step in found["steps"])
    return (f"<h3>find-rate: {_e(said)}</h3><p class=\"muted\">SLO: {_e(', '.join(found['slo']))}</p>"
            f"<table><tr><th>rate asked</th><th>achieved</th><th>p99</th><th>failed</th><th></th><th>why</th></tr>{rows}</table>")


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _us(value: float | None) -> str:
    return "n/a" if value is None else quantity(value, "us")


def _comparison(comparison: Comparison) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in comparison.header)
    rows = "".join(
        f'<tr class="{"fail" if i in comparison.worse else ""}">' + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
        for i, row in enumerate(comparison.rows))
    notes = "".join(f'<p class="muted">{_e(note)}</p>' for note in comparison.notes)
    return f'<h2>Verdicts</h2><table class="verdicts"><tr>{head}</tr>{rows}</table>{notes}<p><b>{_e(comparison.summary)}</b></p>'


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
{body}
<script type="application/json" id="report-data">{data}</script>
<script>
{uplot}
</script>
<script>
{report}
</script>
</body>
</html>
"""
