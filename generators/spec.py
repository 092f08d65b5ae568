"""What to generate, as a plain value: the harness passes it around (run
specs, profiles, the supervisor) without loading numpy or any format."""

from __future__ import annotations

import os
from dataclasses import dataclass

BATCH_LINES = 4096
DEFAULT_START = "2026-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class LineSpec:
    """What to generate; everything that decides the bytes."""

    format: str = "apache"
    seed: int = 0
    baddata: float = 0.0  # percent of lines corrupted
    kinds: tuple[str, ...] | None = None  # bad-data kinds; None: all the format has
    realtime: bool = False
    start: str = DEFAULT_START  # simulated clock: when the first line happens
    clock_rate: float = 1000.0  # simulated clock: lines per simulated second
    timezone: str = "UTC"
    bot_share: float = 0.08
    batch_lines: int = BATCH_LINES


def fresh_seed() -> int:
    """A random 32-bit seed for a run that names none (os.urandom: the secrets
    module costs 9 ms of start-up and adds nothing here)."""
    return int.from_bytes(os.urandom(4), "little")
