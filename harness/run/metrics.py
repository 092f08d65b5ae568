"""The metrics role and the arithmetic of stat slots.

The metrics process only reads the slots (never asks a worker to stop and
talk): once a second it takes a snapshot, and the difference with the
previous one is that second's record: rates, lag, late lines, latency
percentiles of the lines settled in that second. The live view in this
module is one plain line per interval on stderr.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from harness.run.controls import Controls
from harness.report.histogram import Histogram
from harness.report.readout import reporting
from harness.run.spec import RunSpec
from harness.transport.stats import COUNTERS, StatsBoard
from harness.run.topology import Plan

INTERVAL_SECONDS = 1.0
BAD_PREFIX = "bad_"


@dataclass(frozen=True)
class Layout:
    """Which slots belong to what: the sources, and each sink's producers."""

    sources: tuple[int, ...]
    source_names: tuple[str, ...]
    sinks: tuple[tuple[str, tuple[int, ...]], ...]  # (sink name, producer slots)
    observers: tuple[tuple[int, ...], ...]  # per sink: its observer's slot, if any
    schedule: Any
    quiet: bool
    lines: int = 0  # the run's length in lines (0: open-ended)
    duration: float | None = None
    plain: bool = False  # plain lines even on a terminal (a sink writes to it)
    feed: str | None = None  # a file each record is appended to as one JSON line (a shard's coordinator reads it)

    @classmethod
    def of(cls, topology: Plan, spec: RunSpec) -> "Layout":
        sources = [p for p in topology.processes if p.role in ("generator", "reader")]
        sinks = tuple((target.name, tuple(p.slot for p in topology.role("producer") if p.sink == s))
                      for s, target in enumerate(spec.sinks))
        observers = tuple(tuple(p.slot for p in topology.processes if p.role in ("observer", "read-back") and p.sink == s)
                          for s in range(len(spec.sinks)))
        return cls(tuple(p.slot for p in sources), tuple(p.name for p in sources), sinks, observers, spec.schedule,
                   spec.quiet, spec.lines, spec.duration, plain=any(t.name == "stdout" for t in spec.sinks), feed=spec.feed)


@dataclass
class SinkTotals:
    """What became of the run's lines at one sink (harness.run.accounting
    fills the unsent and in-doubt parts once the run has ended)."""

    name: str
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    late: int = 0
    publish: Histogram = field(default_factory=Histogram)
    e2e: Histogram | None = None  # end-to-end latency, when the sink was observed
    last_delivery: float = 0.0  # wall-clock time of the last delivered line (0: none yet)
    sending: int = 0  # handed to the sink, counted before each send
    dropped: int = 0  # failed without being sent (the sink was down)
    unsent: int = 0
    unsent_reason: str = ""
    in_doubt: int = 0
    in_doubt_reason: str = ""
    unacknowledged: bool = False  # the sink hears nothing back (syslog over UDP): "delivered" is only "sent"

    def lost(self) -> list[tuple[str, int, str]]:
        """The lines neither delivered nor failed, as (kind, count, reason)
        for each kind there are any of: "unsent", "in doubt"."""
        parts = (("unsent", self.unsent, self.unsent_reason), ("in doubt", self.in_doubt, self.in_doubt_reason))
        return [part for part in parts if part[1]]


@dataclass
class Totals:
    generated: int = 0
    bytes: int = 0
    bad: dict[str, int] = field(default_factory=dict)
    sinks: list[SinkTotals] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.sinks)


def _sum(snapshot: Any, slots: tuple[int, ...], name: str) -> int:
    return int(snapshot.counters[list(slots), COUNTERS.index(name)].sum()) if slots else 0


def _max(snapshot: Any, slots: tuple[int, ...], name: str) -> int:
    return int(snapshot.counters[list(slots), COUNTERS.index(name)].max()) if slots else 0


def _histogram(snapshot: Any, slots: tuple[int, ...], name: str) -> Histogram:
    merged = Histogram()
    for slot in slots:
        merged.add(snapshot.slot_histograms[name][slot])
    return merged


def totals(snapshot: Any, layout: Layout) -> Totals:
    bad = {name[len(BAD_PREFIX):]: _sum(snapshot, layout.sources, name) for name in COUNTERS if name.startswith(BAD_PREFIX)}
    return Totals(
        generated=_sum(snapshot, layout.sources, "generated"),
        bytes=_sum(snapshot, layout.sources, "bytes"),
        bad={kind: count for kind, count in bad.items() if count},
        sinks=[SinkTotals(name, _sum(snapshot, slots, "sent"), _sum(snapshot, slots, "delivered"), _sum(snapshot, slots, "failed"),
                          _sum(snapshot, slots, "late"), _histogram(snapshot, slots, "publish"),
                          _histogram(snapshot, observed, "e2e") if observed else None,
                          last_delivery=_max(snapshot, slots, "last_delivery_ms") / 1000,
                          sending=_sum(snapshot, slots, "sending"), dropped=_sum(snapshot, slots, "dropped"))
               for (name, slots), observed in zip(layout.sinks, layout.observers)],
    )


def span(sink: SinkTotals, start: float) -> float:
    """Seconds from the run's common start to the sink's last delivery (0
    before any): the time over which its lines were delivered, without the
    set-up before or the stopping after."""
    return max(0.0, sink.last_delivery - start) if sink.last_delivery else 0.0


def interval_record(t: float, seconds: float, before: Totals, after: Totals, earlier: Any, snapshot: Any, layout: Layout,
                    start: float) -> dict:
    """One second (or interval) of the run, from two snapshots and their totals:

    {"t": end of the interval (s from the start), "seconds": its length,
     "generated": lines/s from all sources, "generated_total": lines so far,
     "generators": [{"name", "rate": lines/s, "ring_fill": 0..1}],
     "bad": {kind: lines in the interval},
     "sinks": [{"name", "target": lines/s or None, "sent", "delivered": lines/s,
                "failed", "late": lines in the interval, "delivered_total",
                "failed_total", "span_s": start to the last delivery, "lag_s", "p50_us", "p99_us", "p999_us": None when
                nothing was settled}]}"""
    generators = [{"name": name,
                   "rate": (snapshot.value(slot, "generated") - earlier.value(slot, "generated")) / seconds,
                   "ring_fill": snapshot.value(slot, "ring_fill_ppm") / 1e6}
                  for name, slot in zip(layout.source_names, layout.sources)]
    bad = {kind: after.bad.get(kind, 0) - before.bad.get(kind, 0) for kind in after.bad}
    sinks = []
    for (name, slots), observers, old, new in zip(layout.sinks, layout.observers, before.sinks, after.sinks):
        window = Histogram(new.publish.counts - old.publish.counts)
        sinks.append({
            "name": name,
            "target": None if layout.schedule is None else round(float(layout.schedule.rate_at(t - seconds / 2)), 3),
            "sent": (new.sent - old.sent) / seconds,
            "delivered": (new.delivered - old.delivered) / seconds,
            "failed": new.failed - old.failed,
            "late": new.late - old.late,
            "delivered_total": new.delivered,
            "failed_total": new.failed,
            "span_s": round(span(new, start), 3),
            "lag_s": _max(snapshot, slots, "lag_us") / 1e6,
            **{key: window.percentile(p) if window.total_count else None
               for key, p in (("p50_us", 50), ("p99_us", 99), ("p999_us", 99.9))},
            "max_us": window.max if window.total_count else None,
            **_end_to_end(snapshot, observers, old, new),
        })
    return {"t": round(t, 3), "seconds": round(seconds, 3), "generated": (after.generated - before.generated) / seconds,
            "generated_total": after.generated, "generators": generators,
            "bad": {kind: n for kind, n in bad.items() if n}, "sinks": sinks}


def _end_to_end(snapshot: Any, observers: tuple[int, ...], old: SinkTotals, new: SinkTotals) -> dict:
    """Lines read back at the far end so far, and the interval's end-to-end
    p99 (None when none settled or the run is unpaced); {} when nobody reads back."""
    if not observers or new.e2e is None:
        return {}
    window = Histogram(new.e2e.counts - old.e2e.counts)
    return {"read_total": _sum(snapshot, observers, "observed"), "e2e_p99_us": window.percentile(99) if window.total_count else None}


def metrics_role(board_handle: Any, layout: Layout, controls: Controls, done: Any) -> list[dict]:
    def view(stream):  # the live dashboard, made (and rich loaded) only for a terminal
        from harness.report.dashboard import Dashboard, showing

        title = f"logstorm: {', '.join(name for name, _ in layout.sinks)}"
        return showing(Dashboard(title, layout.lines, layout.duration), stream)

    board = StatsBoard.attach(board_handle)
    series: list[dict] = []
    feed = open(layout.feed, "a", buffering=1) if layout.feed else None
    try:
        controls.begin()
        start = controls.start_at.value or time.time()
        earlier = board.snapshot()
        previous, previous_at = totals(earlier, layout), start
        # A live view on a terminal, plain lines otherwise, nothing when quiet.
        with reporting(view, layout.quiet, plain=layout.plain) as show:
            while True:
                # Ticks fall on start + k intervals (not the last tick + 1), so the
                # seconds of shards that share a start line up.
                tick = start + INTERVAL_SECONDS * (math.floor((previous_at - start) / INTERVAL_SECONDS) + 1)
                finished = done.wait(max(0.0, tick - time.time()))
                now = time.time()
                snapshot = board.snapshot()
                current = totals(snapshot, layout)
                seconds = now - previous_at
                if seconds > 0.05 or not finished:
                    record = interval_record(now - start, seconds, previous, current, earlier, snapshot, layout, start)
                    series.append(record)
                    show(record)
                    if feed is not None:
                        feed.write(json.dumps(record) + "\n")
                earlier, previous, previous_at = snapshot, current, now
                if finished:
                    break
    finally:
        if feed is not None:
            feed.close()
        board.close()
    return series
