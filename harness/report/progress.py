"""Progress on stderr while a command runs (only when stderr is a terminal),
and the one-line summary at the end."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, enabled: bool, interval: float = 0.5) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.interval = interval
        self.started = self.shown = time.monotonic()

    def update(self, lines: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.shown >= self.interval:
            self.shown = now
            rate = lines / max(now - self.started, 1e-9)
            sys.stderr.write(f"\r{lines:,} lines, {rate:,.0f} lines/s ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def summary_line(command: str, lines: int, bad: dict[str, int], seconds: float, startup: float, seed: int) -> str:
    """The rate leaves out the start-up (building the pools), a fixed cost
    that a long or endless run does not pay again."""
    bad_total = sum(bad.values())
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(bad.items()))
    bad_text = f"{bad_total:,} bad ({kinds})" if bad_total else "0 bad"
    return f"{command}: {lines:,} lines, {bad_text}, {seconds:.2f} s, {lines / max(seconds - startup, 1e-9):,.0f} lines/s after {startup:.2f} s of start-up, seed {seed}"
