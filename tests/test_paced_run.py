"""Paced runs in real time, across real processes: the rates a user asked for,
second by second, and latency measured from the intended send time."""

from __future__ import annotations

import json
import math
import re
import time

from generators.factory import LineSpec
from harness.load import schedule
from harness.load.pacing import SEND_EVERY
from harness.run.spec import RunSpec, SinkTarget
from harness.run.supervisor import supervise
from sinks import null
from tests.fixtures.common import run_cli
from tests.sinks import stall


def paced(shape, seconds: float, sink: SinkTarget, generators: int = 1) -> RunSpec:
    return RunSpec(source=LineSpec(seed=11), sinks=(sink,), generators=generators,
                   lines=math.floor(shape.lines_due(seconds)), duration=seconds, schedule=shape, quiet=True)


NULL = SinkTarget("null", "sinks.null", null.Options(), producers=2)


def whole_seconds(series: list[dict], seconds: float) -> list[float]:
    """Delivered lines/s of the records that cover one whole second of the run."""
    return [r["sinks"][0]["delivered"] for r in series if 1.0 <= r["t"] <= seconds + 0.05]


def test_rate_2000_for_10_seconds():
    outcome = supervise(paced(schedule.constant(2000), 10, NULL, generators=2))
    sink = outcome.totals.sinks[0]
    assert outcome.status == 0, outcome.errors
    assert abs(sink.delivered - 20_000) <= 400
    rates = whole_seconds(outcome.series, 10)
    assert len(rates) >= 9
    assert all(abs(r - 2000) <= 100 for r in rates), rates


def test_schedule_cycles_through_its_rates(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text('{"update_interval": 2, "schedule": [1000, 3000, 500]}')
    outcome = supervise(paced(schedule.from_json(str(path)), 12, NULL))
    assert outcome.status == 0, outcome.errors
    rates = whole_seconds(outcome.series, 12)[:12]
    expected = [1000, 1000, 3000, 3000, 500, 500] * 2
    assert len(rates) == 12, rates
    # A producer sends at most every SEND_EVERY: the lines due in the last of
    # those slices of a second may be delivered in the next one, which so
    # gains up to SEND_EVERY x the rate before it (30 lines after 3,000/s).
    before = expected[-1:] + expected[:-1]
    assert all(abs(r - e) <= 0.05 * e + SEND_EVERY * b for r, e, b in zip(rates, expected, before)), rates


def test_a_stalled_sink_makes_the_lines_due_meanwhile_late():
    options = stall.Options(stall_after=time.time() + 2.5, stall_seconds=1.0)
    target = SinkTarget("stall", "tests.sinks.stall", options, producers=1)
    outcome = supervise(paced(schedule.constant(1000), 5, target))
    sink = outcome.totals.sinks[0]
    assert sink.delivered == 5000
    latencies = sink.publish
    # The first line due in the stall waited for all of it; half the stall's
    # lines (~500) were due at least half a second before they could go.
    assert latencies.max >= 950_000
    assert latencies.percentile(100 * (1 - 400 / 5000)) >= 500_000
    assert sink.late >= 900


def test_a_paced_run_reports_its_rate_over_the_span_not_the_set_up_and_stopping(tmp_path):
    """20,000 lines/s for 10 s: the summary and the result file give the
    rate within 1 % (the run's set-up and stopping are its time "in all")."""
    done = run_cli("run", "--format", "apache", "--rate", "20000", "--duration", "10", "--sink", "null", "--quiet",
                   "--results", str(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    said = re.search(rb"200,000 lines in ([\d.]+) s \(([\d,]+) lines/s\)[^;]*; ([\d.]+) s in all", done.stderr)
    assert said, done.stderr
    assert abs(int(said[2].replace(b",", b"")) - 20_000) <= 200
    assert float(said[3]) > float(said[1])
    [path] = tmp_path.rglob("*.json")
    result = json.loads(path.read_text())
    assert abs(result["sinks"][0]["delivered_per_s"] - 20_000) <= 200
    assert result["wall_s"] > result["duration_s"]
