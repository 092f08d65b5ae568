"""The live dashboard and the plain per-interval lines, rendered from known
metrics records (the shape `harness.run.metrics.interval_record` documents).

Golden files: LOGSTORM_UPDATE_GOLDEN=1 rewrites them from the current output."""

from __future__ import annotations

from functools import partial

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from harness.report.dashboard import DEMO_SECONDS, Dashboard, demo_record, live, showing
from harness.report.readout import plain_line, reporting, sparkline

GOLDEN = Path(__file__).parent / "golden"


def sink(name: str, t: float, rate: float, target: float | None = None, delivered_total: int | None = None,
         failed_total: int = 0, latency_us: tuple[float, float, float] | None = (1_250.0, 8_400.0, 23_000.0),
         lag_s: float = 0.004) -> dict:
    """A sink's second; by default it delivered `rate` every second so far."""
    p50, p99, p999 = latency_us or (None, None, None)
    return {"name": name, "target": target, "sent": rate, "delivered": rate, "failed": 0, "late": 0,
            "delivered_total": int(rate * t) if delivered_total is None else delivered_total,
            "failed_total": failed_total, "lag_s": lag_s,
            "p50_us": p50, "p99_us": p99, "p999_us": p999}


def record(t: float, sinks: list[dict], ring_fill: tuple[float, ...] = (0.45, 0.52), rate: float = 25_000.0,
           bad: dict[str, int] | None = None) -> dict:
    return {"t": t, "seconds": 1.0, "generated": rate * len(ring_fill), "generated_total": int(rate * len(ring_fill) * t),
            "generators": [{"name": f"generator-{i}", "rate": rate, "ring_fill": fill} for i, fill in enumerate(ring_fill)],
            "bad": bad or {}, "sinks": sinks}


def paced_run() -> list[dict]:
    """Five seconds of a 500,000-line run into two sinks: kafka paced at
    20,000/s and catching up after a slow start, s3 unpaced with failures."""
    records, kafka_total = [], 0
    for t, kafka_rate in enumerate((12_000.0, 18_500.0, 20_000.0, 20_000.0, 19_800.0), start=1):
        kafka_total += int(kafka_rate)
        records.append(record(float(t), [
            sink("kafka", t, kafka_rate, target=20_000.0, delivered_total=kafka_total),
            sink("s3", t, 48_000.0, failed_total=3 * t, latency_us=None if t == 1 else (95_000.0, 310_000.0, 1_450_000.0),
                 lag_s=1.75),
        ], bad={"junk": 20 + t, "truncated": 7} if t % 2 else {"bad_ip": 4}))
    return records


def render(dashboard: Dashboard) -> str:
    console = Console(file=StringIO(), width=100, color_system=None, force_terminal=False, legacy_windows=False)
    console.print(dashboard)
    return console.file.getvalue()


def fed(records: list[dict], lines: int = 0, duration: float | None = None) -> Dashboard:
    dashboard = Dashboard("logstorm run: kafka, s3", lines, duration)
    for r in records:
        dashboard.update(r)
    return dashboard


def check_golden(name: str, text: str) -> None:
    # Trailing spaces are rich's padding: compared without them, so an
    # editor that strips them cannot break the test.
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    path = GOLDEN / name
    if os.environ.get("LOGSTORM_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_dashboard_renders_known_numbers_as_golden_text():
    check_golden("dashboard.txt", render(fed(paced_run(), lines=500_000)))


def test_plain_mode_prints_one_line_per_interval():
    records = paced_run()
    stream = StringIO()
    with reporting(partial(showing, Dashboard("run", 500_000, None)), quiet=False, stream=stream) as show:
        for r in records:
            show(r)
    lines = stream.getvalue().splitlines()
    assert lines == [plain_line(r) for r in records]
    check_golden("dashboard_plain.txt", stream.getvalue())


def test_quiet_prints_nothing():
    stream = StringIO()
    with reporting(partial(showing, Dashboard("run", 0, None)), quiet=True, stream=stream) as show:
        for r in paced_run():
            show(r)
    assert stream.getvalue() == ""


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_live_dashboard_and_keeps_its_last_frame():
    stream = Terminal()
    with reporting(partial(showing, Dashboard("run", 500_000, None)), quiet=False, stream=stream) as show:
        for r in paced_run():
            show(r)
    out = stream.getvalue()
    assert "target/s" in out and "elapsed 0:05" in out
    assert plain_line(paced_run()[-1]) not in out


def test_live_draws_the_state_it_reads():
    dashboard = fed(paced_run()[:1], lines=500_000)
    console = Console(file=StringIO(), width=100, color_system=None, force_terminal=True, legacy_windows=False)
    with live(dashboard, console):
        dashboard.update(paced_run()[1])
    assert "elapsed 0:02" in console.file.getvalue()


@pytest.mark.parametrize("values, expected", [
    ([], ""),
    ([0.0, 0.0], "▁▁"),
    ([0.0, 7.0], "▁█"),
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], "▁▂▃▄▅▆▇█"),
    ([5.0, 5.0, 5.0], "███"),  # a steady rate is a full bar: scaled from zero, not from the minimum
    ([-3.0, 10.0, 5.0], "▁█▅"),
])
def test_sparkline(values, expected):
    assert sparkline(values) == expected


def test_sparkline_covers_the_last_minute():
    records = [record(float(t), [sink("null", t, 1000.0 * (t % 8))]) for t in range(1, 91)]
    text = render(fed(records))
    assert "last 60 s" in text
    line = next(line for line in text.splitlines() if line.startswith("null") and "peak 7,000/s" in line)
    spark = line.split()[-1]
    assert len(spark) == 60 and spark.endswith("▄▅▆▇█▁▂▃")  # seconds 83..90, the newest last


def test_an_open_ended_run_shows_elapsed_time_only():
    text = render(fed(paced_run()))
    assert "elapsed 0:05" in text
    assert "remaining" not in text
    assert "░" not in text.split("sink")[0]  # no progress bar above the sink table


def test_a_duration_run_counts_down_the_duration():
    text = render(fed(paced_run()[:4], duration=10.0))
    assert "elapsed 0:04   remaining 0:06" in text
    assert "█" * 16 + "░" * 24 + " 40%" in text


def test_a_paced_multi_sink_record_renders_every_sink():
    targets = {"kafka": 10_000.0, "s3": 2_500.0, "kinesis": 750.0}
    sinks = [sink(name, 3, 0.9 * target, target=target) for name, target in targets.items()]
    text = render(fed([record(3.0, sinks)], lines=100_000))
    table = text.split("sink ")[1].split("delivered per second")[0]  # the sink table, headers first
    rows = {cells[0]: cells[1:3] for cells in map(str.split, table.splitlines()[2:]) if cells}
    assert rows == {"kafka": ["10,000", "9,000"], "s3": ["2,500", "2,250"], "kinesis": ["750", "675"]}


@pytest.mark.parametrize("fill, target, lag_s, verdict", [
    ((0.97, 0.99), None, 0.004, "rings full: the sinks set the pace"),
    ((0.02, 0.0), None, 0.004, "rings empty: the generators set the pace"),
    # Paced, the generators run ahead of the schedule: full rings are the
    # rate's doing unless a sink falls behind it.
    ((0.97, 0.99), 50_000.0, 0.004, "rings full, sinks on schedule: the rate sets the pace"),
    ((0.97, 0.99), 50_000.0, 0.8, "rings full: the sinks set the pace, behind the schedule"),
])
def test_ring_fill_names_the_side_that_sets_the_pace(fill, target, lag_s, verdict):
    text = render(fed([record(2.0, [sink("null", 2, 50_000.0, target=target, lag_s=lag_s)], ring_fill=fill)]))
    assert verdict in text
    assert "sinks set the pace" not in text or "sinks set the pace" in verdict


def test_before_the_first_second_it_says_so():
    assert "waiting for the first second" in render(Dashboard("run", 0, None))


def test_a_run_of_n_lines_counts_what_the_slowest_sink_settled():
    sinks = [sink("kafka", 4, 10_000.0, delivered_total=30_000, failed_total=10_000),
             sink("s3", 4, 5_000.0, delivered_total=20_000)]
    text = render(fed([record(4.0, sinks)], lines=100_000))
    assert "elapsed 0:04   remaining 0:16" in text
    assert " 20%   20,000 of 100,000 lines done" in text


def test_once_every_line_is_generated_the_rings_name_no_pace_setter():
    full = record(2.0, [sink("null", 2, 50_000.0)], ring_fill=(1.0, 1.0))
    assert "set the pace" in render(fed([full], lines=full["generated_total"] + 1))
    assert "set the pace" not in render(fed([full], lines=full["generated_total"]))


def test_the_demo_records_render():
    text = render(fed([demo_record(second) for second in range(1, DEMO_SECONDS + 1)], lines=2_186_091))
    assert "rings full" not in text and "1.4 s" in text  # generation done; s3 lags behind kafka


def test_the_average_is_over_the_span_to_the_last_delivery_not_the_time_spent_stopping():
    """A 10 s run at 20,000/s whose last record comes 0.4 s after its last delivery."""
    last = sink("kafka", 10.4, 0.0, target=20_000.0, delivered_total=200_000)
    last["span_s"] = 10.0
    text = render(fed([record(10.4, [last])], duration=10))
    row = next(line for line in text.splitlines() if line.startswith("kafka "))
    assert "20,000" in row.split()[3], row  # avg/s: 200,000 / 10.0, not / 10.4


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_and_logged_runs_never_load_rich(quiet):
    """rich costs the metrics process about 0.1 s of start-up: only a terminal's live view needs it."""
    probe = ("import io, sys\nfrom harness.report.readout import reporting\n"
             f"with reporting(None, quiet={quiet}, stream=io.StringIO()) as show:\n    pass\n"
             "print('rich' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
