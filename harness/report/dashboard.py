"""What a person watches on a terminal while a run goes: a live `rich`
dashboard (the plain lines of CI logs, and the choice between the two, are in
harness/report/readout.py, which does not load rich).

It reads the metrics role's per-interval records (`metrics.interval_record`),
the same data that goes into the result file. `Dashboard.update` keeps the little history the view needs;
`Dashboard.renderable` only reads it, so rich's refresh thread may call it
at any time (`live`). Time comes from the records, never from a clock: the
same records always render the same text.

`python -m harness.report.dashboard` plays synthetic records for a look at it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from contextlib import contextmanager
from functools import partial
from typing import Callable, Iterator, TextIO

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.live import Live
from rich.measure import Measurement
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from harness.load.pacing import LATE_SECONDS
from harness.report.readout import bar, clock, count, lag, ms, percent, rate, reporting, sparkline

HISTORY_SECONDS = 60.0
BAR_WIDTH = 40
FILL_WIDTH = 10
FULL, EMPTY = 0.9, 0.1  # ring fill beyond which one side plainly sets the pace


class Dashboard:
    """The state of the view: the latest record, each sink's recent rates,
    the bad lines so far. `update` writes, `renderable` reads; a lock keeps
    rich's refresh thread from reading half an update."""

    def __init__(self, title: str, lines: int, duration: float | None, sources: str = "generator") -> None:
        self.title, self.lines, self.duration = title, lines, duration
        self.sources = sources  # what the rows under the sinks are: generators, or a cluster's shards
        self._lock = threading.Lock()
        self._latest: dict | None = None
        self._history: deque[tuple[float, list[float]]] = deque()  # (t, delivered rate per sink)
        self._bad: dict[str, int] = {}

    def update(self, record: dict) -> None:
        with self._lock:
            self._latest = record
            self._history.append((record["t"], [sink["delivered"] for sink in record["sinks"]]))
            while self._history[0][0] <= record["t"] - HISTORY_SECONDS:
                self._history.popleft()
            for kind, n in record["bad"].items():
                self._bad[kind] = self._bad.get(kind, 0) + n

    def __rich__(self) -> RenderableType:
        return self.renderable()

    def renderable(self) -> RenderableType:
        with self._lock:
            record = self._latest
            if record is None:
                return Group(self._title(), Text("waiting for the first second of the run"))
            parts = [self._title(), self._progress(record), Text(), *self._sinks(record), Text(),
                     *self._generators(record), Text(), self._bad_lines()]
        return Group(*parts)

    def _title(self) -> RenderableType:
        return Rule(Text(self.title, style="bold"), align="left", characters="─")

    def _progress(self, record: dict) -> RenderableType:
        """Elapsed, and for a bounded run remaining time and a bar. A run of
        N lines ends when every sink has settled (delivered or failed) N:
        the slowest sink's count measures it, not the generators', which
        run ahead by a ring's worth. With a duration too, whichever ends first."""
        t = record["t"]
        fractions, remaining = [], []
        settled = min((s["delivered_total"] + s["failed_total"] for s in record["sinks"]), default=0)
        if self.lines:
            fractions.append(min(settled / self.lines, 1.0))
            if settled:
                remaining.append(t * max(self.lines - settled, 0) / settled)
        if self.duration:
            fractions.append(min(t / self.duration, 1.0))
            remaining.append(max(self.duration - t, 0.0))
        times = f"elapsed {clock(t)}"
        if not fractions:
            return Text(f"{times}   {count(record['generated_total'])} lines generated (open-ended)")
        times += f"   remaining {clock(math.ceil(min(remaining))) if remaining else '-'}"
        done = max(fractions)
        of_lines = f"   {count(settled)} of {count(self.lines)} lines done" if self.lines else ""
        return Text(f"{times}\n{bar(done, BAR_WIDTH)} {percent(done)}{of_lines}")

    def _sinks(self, record: dict) -> list[RenderableType]:
        # Ten columns fit a terminal of 80 only with the units of rates and
        # latencies in the headers.
        table = _table(("sink", "target/s", "now/s", "avg/s", "lag", "delivered", "failed", "p50 ms", "p99 ms", "p99.9 ms"))
        for sink in record["sinks"]:
            # The average over the sink's span (start to last delivery), as
            # the summary and the result file give it: a paced run's average
            # is its rate, not less for the moments spent stopping.
            seconds = max(sink.get("span_s") or record["t"], 1e-9)
            table.add_row(sink["name"], "max" if sink["target"] is None else count(round(sink["target"])),
                          count(round(sink["delivered"])), count(round(sink["delivered_total"] / seconds)),
                          lag(sink["lag_s"]), count(sink["delivered_total"]),
                          Text(count(sink["failed_total"]), style="red" if sink["failed_total"] else ""),
                          *(ms(sink[key]).removesuffix(" ms") for key in ("p50_us", "p99_us", "p999_us")))
        rates = list(zip(*(rates for _, rates in self._history)))
        span = self._history[-1][0] - self._history[0][0] + record["seconds"]
        sparklines = Table.grid(padding=(0, 1, 0, 0))
        sparklines.add_column(no_wrap=True)
        sparklines.add_column(no_wrap=True, justify="right")
        sparklines.add_column(no_wrap=True)
        for sink, series in zip(record["sinks"], rates):
            sparklines.add_row(sink["name"], f"peak {rate(max(series))}", _Sparkline(list(series)))
        far = [Text(f"{sink['name']}:{_far_end(sink)}") for sink in record["sinks"] if "read_total" in sink]
        return [table, *far, Text(), Text(f"delivered per second, last {span:.0f} s"), sparklines]

    def _generators(self, record: dict) -> list[RenderableType]:
        table = _table((self.sources, "lines/s", "ring fill"))
        for generator in record["generators"]:
            table.add_row(generator["name"], count(round(generator["rate"])),
                          f"{bar(generator['ring_fill'], FILL_WIDTH)} {percent(generator['ring_fill']):>4}")
        generating = not (self.lines and record["generated_total"] >= self.lines)
        verdict = _pace_setter(record["generators"], record["sinks"]) if generating else ""
        return [table, Text(verdict, style="yellow")] if verdict else [table]

    def _bad_lines(self) -> RenderableType:
        total = sum(self._bad.values())
        kinds = ", ".join(f"{kind} {count(n)}" for kind, n in sorted(self._bad.items()))
        return Text(f"bad lines {count(total)}" + (f": {kinds}" if kinds else ""))


class _Sparkline:
    """A sparkline that shrinks to the width it gets by dropping its oldest
    values, so a narrow terminal still shows the latest seconds."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(len(self.values), 8), len(self.values))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield Text(sparkline(self.values[-options.max_width:]))


def _table(headers: tuple[str, ...]) -> Table:
    """Columns a space apart (the sink table fits 80 characters) under an
    underlined header; text to the left, numbers to the right."""
    table = Table(box=box.SIMPLE_HEAD, padding=0, pad_edge=False, show_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 or header == "ring fill" else "right", no_wrap=True)
    return table


def _pace_setter(generators: list[dict], sinks: list[dict]) -> str:
    """Which side holds the run back, read from the rings while the
    generators generate: full rings wait for the sinks, empty ones for the
    generators. In a paced run the generators run ahead of the schedule,
    so full rings with every sink on time mean the rate sets the pace, and
    a sink is not called slow for sending no sooner than it was told to."""
    if not any(g["rate"] > 0 for g in generators):
        return ""
    fill = sum(g["ring_fill"] for g in generators) / len(generators)
    if fill >= FULL:
        paced = all(sink["target"] is not None for sink in sinks)
        if paced and all(sink["lag_s"] <= LATE_SECONDS for sink in sinks):
            return "rings full, sinks on schedule: the rate sets the pace"
        return "rings full: the sinks set the pace" + (", behind the schedule" if paced else "")
    if fill <= EMPTY:
        return "rings empty: the generators set the pace"
    return ""


def live(dashboard: Dashboard, console: Console) -> Live:
    """The live view (a context manager): rich redraws from the dashboard's
    state four times a second; the last frame stays on screen."""
    return Live(get_renderable=dashboard.renderable, console=console, refresh_per_second=4, transient=False)


@contextmanager
def showing(dashboard: Dashboard, stream: TextIO) -> Iterator[Callable[[dict], None]]:
    """The dashboard live on `stream`: readout.reporting's view for a terminal."""
    with live(dashboard, Console(file=stream)):
        yield dashboard.update


DEMO_SECONDS = 40


def _wave(second: int) -> float:
    return 50_000 + 30_000 * math.sin(second / 5)


def demo_record(second: int) -> dict:
    """A made-up second of a paced run into two sinks: both follow a slow
    wave, s3 tops out at 70,000/s; the generators keep the rings full."""
    s3_cap = 70_000.0
    target = _wave(second)
    kafka_total = sum(round(_wave(s)) for s in range(1, second + 1))
    s3_total = sum(round(min(_wave(s), s3_cap)) for s in range(1, second + 1))
    lines = sum(round(_wave(s)) for s in range(1, DEMO_SECONDS + 1))
    return {
        "t": float(second), "seconds": 1.0, "generated": target,
        "generated_total": min(kafka_total + 200_000, lines),
        "generators": [{"name": f"generator-{g}", "rate": target / 2, "ring_fill": 0.96 - 0.03 * g} for g in range(2)],
        "bad": {"junk": 40 + second % 7, "truncated": 25} if second % 3 else {"bad_ip": 12},
        "sinks": [
            {"name": "kafka", "target": target, "sent": target, "delivered": target, "failed": 0, "late": 0,
             "delivered_total": kafka_total, "failed_total": 0, "lag_s": 0.004 + 0.002 * (second % 4),
             "p50_us": 1_800.0 + 40 * second, "p99_us": 9_500.0, "p999_us": 31_000.0},
            {"name": "s3", "target": target, "sent": min(target, s3_cap), "delivered": min(target, s3_cap),
             "failed": 0, "late": 0, "delivered_total": s3_total, "failed_total": 0,
             "lag_s": (kafka_total - s3_total) / s3_cap, "p50_us": 120_000.0, "p99_us": 410_000.0,
             "p999_us": None if second < 3 else 650_000.0},
        ],
    }


def main(per_second: float = 4.0) -> None:
    """Play a made-up run, `per_second` seconds of it a second."""
    lines = sum(round(_wave(s)) for s in range(1, DEMO_SECONDS + 1))
    with reporting(partial(showing, Dashboard("logstorm demo: kafka, s3", lines, float(DEMO_SECONDS))),
                   quiet=False) as show:
        for second in range(1, DEMO_SECONDS + 1):
            show(demo_record(second))
            time.sleep(1 / per_second)


if __name__ == "__main__":
    main()
