"""What a run shows as it goes, without rich: numbers for people, one
plain line per interval (CI logs), and the choice between nothing, those
lines and a live view (harness/report/dashboard.py, which alone loads
rich, and only when a terminal shows it: a quiet run or a CI log starts
faster without it)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, TextIO

Show = Callable[[dict], None]

BLOCKS = "▁▂▃▄▅▆▇█"


# Numbers for people.

def rate(lines_per_s: float) -> str:
    return f"{lines_per_s:,.0f}/s"


def count(n: int) -> str:
    return f"{n:,}"


def percent(fraction: float) -> str:
    return f"{fraction:.0%}"


def ms(us: float | None) -> str:
    """Microseconds as milliseconds with about three significant digits; "-" for none."""
    if us is None:
        return "-"
    value = us / 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def lag(seconds: float) -> str:
    return ms(seconds * 1e6) if seconds < 1 else f"{seconds:,.1f} s"


def clock(seconds: float) -> str:
    """0:42, 12:03, 1:02:03."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def bar(fraction: float, width: int) -> str:
    """A bar that reads without colour: filled cells, then empty ones."""
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def sparkline(values: list[float]) -> str:
    """One block per value, from ▁ (zero or less) to █ (the largest value)."""
    top = max(values, default=0.0)
    if top <= 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[round(max(v, 0.0) / top * (len(BLOCKS) - 1))] for v in values)


def plain_line(record: dict) -> str:
    """One interval on one line, for logs: generation, then each sink."""
    fill = max((g["ring_fill"] for g in record["generators"]), default=0.0)
    bad = sum(record["bad"].values())
    parts = [f"[{record['t']:7.1f}s] generated {rate(record['generated'])} ({count(record['generated_total'])})"
             f" ring {percent(fill)}" + (f" bad {count(bad)}" if bad else "")]
    for sink in record["sinks"]:
        target = "" if sink["target"] is None else f" target {rate(sink['target'])}"
        parts.append(f"{sink['name']}:{target} delivered {rate(sink['delivered'])} ({count(sink['delivered_total'])})"
                     f" failed {count(sink['failed'])} lag {lag(sink['lag_s'])} late {count(sink['late'])}"
                     f" p50 {ms(sink['p50_us'])} p99 {ms(sink['p99_us'])} p99.9 {ms(sink['p999_us'])}" + _far_end(sink))
    if record.get("sharded"):  # a cluster's record: each shard's rate too
        parts.append(", ".join(f"{g['name']} {rate(g['rate'])}" for g in record["generators"]))
    return " | ".join(parts)


def _far_end(sink: dict) -> str:
    """What an observer or the read-back saw arrive at the far end, if one reads it."""
    if "read_total" not in sink:
        return ""
    return f" read back {count(sink['read_total'])} end to end p99 {ms(sink['e2e_p99_us'])}"


@contextmanager
def reporting(view: Callable[[TextIO], ContextManager[Show]], quiet: bool, stream: TextIO | None = None,
              plain: bool = False) -> Iterator[Show]:
    """What the metrics role calls with each record: the live view `view`
    opens on `stream` (default stderr) when that is a terminal (the
    dashboard: dashboard.showing), one plain line per record when not (CI)
    or when `plain` (a sink writes to the terminal too), nothing shown when
    quiet. The decision is the stream's own isatty(): FORCE_COLOR in a CI
    job must not bring cursor codes into logs."""
    stream = stream or sys.stderr
    if quiet:
        yield lambda record: None
    elif stream.isatty() and not plain:
        with view(stream) as show:
            yield show
    else:
        def show(record: dict) -> None:
            print(plain_line(record), file=stream, flush=True)
        yield show
