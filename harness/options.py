"""Argument types shared by the commands: numbers with ranges, checked at
parse time so a bad value is one line naming the flag."""

from __future__ import annotations

import argparse
import math
from typing import Callable


def number(kind: Callable[[str], float], low: float | None = None, high: float | None = None,
           low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: `kind` (int or float) within [low, high] (or (low, high] if low_open)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        too_low = low is not None and (value <= low if low_open else value < low)
        if too_low or (high is not None and value > high):
            if high is None:
                need = f"greater than {low:g}" if low_open else f"at least {low:g}"
            elif low is None:
                need = f"at most {high:g}"
            else:
                need = f"between {low:g} and {high:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {need}")
        return value

    return parse


def words(text: str) -> tuple[str, ...]:
    """A comma-separated list."""
    return tuple(w.strip() for w in text.split(",") if w.strip())
