"""Load shapes: rates in lines per second as piecewise functions of elapsed
seconds, composable in sequence and repeatable.

Every schedule answers three questions, each in closed form (or, for the
sine, a few Newton steps): the rate at t, the lines due from 0 to t (the
integral of the rate), and when line k is due (the inverse: the first
moment the integral passes k). Pacing works from the integral, never from
1/rate per line, so time spent working is made up for.
"""

from __future__ import annotations

import json
import math
import os
from abc import ABC, abstractmethod
from bisect import bisect_right
from itertools import accumulate
from typing import Sequence as Seq

from harness.errors import UserError


class Schedule(ABC):
    unlimited = False
    # Each line is promised its own time (a replay), not only a rate: the
    # pacer spaces sends more closely and the producer asks for priority
    # (harness/load/pacing.py, harness/run/producer.py).
    per_line = False

    @property
    @abstractmethod
    def duration(self) -> float | None:
        """Seconds until the schedule ends; None when it never does."""

    @property
    @abstractmethod
    def total_lines(self) -> float:
        """Lines over the whole schedule (math.inf when endless and not silent)."""

    @abstractmethod
    def rate_at(self, t: float) -> float:
        """Lines per second at t (0 before the start and after the end)."""

    @abstractmethod
    def lines_due(self, t: float) -> float:
        """Lines due from 0 to t: the integral of the rate."""

    @abstractmethod
    def _time_of(self, k: float) -> float:
        """inf{t : lines_due(t) > k}, for 0 <= k < total_lines (tolerating
        rounding just past the total by answering the end)."""

    def time_of_line(self, k: float) -> float | None:
        """When line k (0-based, may be fractional) is due; None if never."""
        return None if k >= self.total_lines else self._time_of(max(k, 0.0))

    def scaled(self, factor: float) -> Schedule:
        """The same shape `factor` times faster, rates unchanged (3600: a day in 24 s)."""
        return Scaled(self, factor)


class Segment(Schedule):
    """A finite piece of `seconds` seconds; subclasses define it on [0, seconds]."""

    def __init__(self, seconds: float) -> None:
        _check(seconds, "seconds", positive=True)
        self.seconds = float(seconds)
        self._total = self._lines(self.seconds)

    @abstractmethod
    def _rate(self, t: float) -> float: ...

    @abstractmethod
    def _lines(self, t: float) -> float: ...

    @property
    def duration(self) -> float:
        return self.seconds

    @property
    def total_lines(self) -> float:
        return self._total

    def rate_at(self, t: float) -> float:
        return self._rate(t) if 0 <= t < self.seconds else 0.0

    def lines_due(self, t: float) -> float:
        return self._lines(min(max(t, 0.0), self.seconds))


class Step(Segment):
    def __init__(self, rate: float, seconds: float) -> None:
        self.rate = _check(rate, "rate")
        super().__init__(seconds)

    def _rate(self, t: float) -> float:
        return self.rate

    def _lines(self, t: float) -> float:
        return self.rate * t

    def _time_of(self, k: float) -> float:
        return min(k / self.rate, self.seconds)


class Ramp(Segment):
    """From `start` to `end` lines per second, linearly."""

    def __init__(self, start: float, end: float, seconds: float) -> None:
        self.start, self.end = _check(start, "start"), _check(end, "end")
        self._slope = (self.end - self.start) / _check(seconds, "seconds", positive=True)
        super().__init__(seconds)

    def _rate(self, t: float) -> float:
        return self.start + self._slope * t

    def _lines(self, t: float) -> float:
        return self.start * t + self._slope * t * t / 2

    def _time_of(self, k: float) -> float:
        if k == 0:
            return 0.0
        # Root of slope/2 t^2 + start t - k in the form that stays exact when slope ~ 0.
        root = math.sqrt(max(self.start * self.start + 2 * self._slope * k, 0.0))
        return min(2 * k / (self.start + root), self.seconds)


class Sine(Segment):
    """mean + amplitude * sin(2 pi t / period), clipped at 0."""

    def __init__(self, mean: float, amplitude: float, period: float, seconds: float) -> None:
        self.mean, self.amplitude = _check(mean, "mean"), _check(amplitude, "amplitude")
        self.period = _check(period, "period", positive=True)
        self._omega = 2 * math.pi / self.period
        # Phases between which the rate would be negative (none when amplitude <= mean).
        if self.amplitude > self.mean:
            self._off = math.pi + math.asin(self.mean / self.amplitude)
            self._on = 3 * math.pi - self._off
        else:
            self._off = self._on = 2 * math.pi
        self._cycle = self._phase_lines(2 * math.pi)
        super().__init__(seconds)

    def _rate(self, t: float) -> float:
        return max(self.mean + self.amplitude * math.sin(self._omega * t), 0.0)

    def _unclipped(self, x: float) -> float:
        return self.mean * x + self.amplitude * (1 - math.cos(x))

    def _phase_lines(self, x: float) -> float:
        """Integral over phase 0..x (x within one period), in line-radians."""
        lines = self._unclipped(min(x, self._off))
        return lines + self._unclipped(x) - self._unclipped(self._on) if x > self._on else lines

    def _lines(self, t: float) -> float:
        periods, rest = divmod(t, self.period)
        return (periods * self._cycle + self._phase_lines(rest * self._omega)) / self._omega

    def _time_of(self, k: float) -> float:
        periods, rest = divmod(k * self._omega, self._cycle)
        if rest < self._phase_lines(self._off):
            x = self._solve(rest, 0.0, self._off)
        else:
            x = self._solve(rest - self._phase_lines(self._off) + self._unclipped(self._on), self._on, 2 * math.pi)
        return min((periods * 2 * math.pi + x) / self._omega, self.seconds)

    def _solve(self, target: float, low: float, high: float) -> float:
        """x in [low, high] with _unclipped(x) = target, which grows there:
        Newton steps, falling back to bisection when a step leaves the bracket."""
        x = (low + high) / 2
        for _ in range(100):
            error = self._unclipped(x) - target
            if error > 0:
                high = x
            else:
                low = x
            slope = self.mean + self.amplitude * math.sin(x)
            step = x - error / slope if slope > 0 else math.nan
            following = step if low < step < high else (low + high) / 2
            if abs(following - x) < 1e-13:
                return following
            x = following
        return x


class Sequence(Schedule):
    """Finite schedules one after the other, `repeat` times (None: forever)."""

    def __init__(self, segments: Seq[Schedule], repeat: int | None = None) -> None:
        if not segments:
            raise ValueError("a sequence needs at least one segment")
        if any(s.duration is None for s in segments):
            raise ValueError("only the last level of a schedule may be endless: put endless parts outside a sequence")
        if repeat is not None and repeat < 1:
            raise ValueError(f"repeat must be at least 1, not {repeat}")
        self.segments = tuple(segments)
        self.repeat = repeat
        self._starts = [0.0, *accumulate(s.duration for s in segments)]
        self._lines_before = [0.0, *accumulate(s.total_lines for s in segments)]
        self._cycle_seconds = self._starts[-1]
        self._cycle_lines = self._lines_before[-1]
        # Rounding can put a line just past the end of a cycle; it belongs to
        # the last segment that sends anything.
        self._last_sending = max((i for i, s in enumerate(segments) if s.total_lines > 0), default=0)

    @property
    def duration(self) -> float | None:
        return None if self.repeat is None else self.repeat * self._cycle_seconds

    @property
    def total_lines(self) -> float:
        if self.repeat is None:
            return math.inf if self._cycle_lines else 0.0
        return self.repeat * self._cycle_lines

    def _locate(self, t: float) -> tuple[float, int, float]:
        """(cycle, segment index, time within the segment) of a time within the schedule."""
        cycle, within = divmod(t, self._cycle_seconds)
        if self.repeat is not None and cycle >= self.repeat:
            cycle, within = self.repeat - 1, self._cycle_seconds
        i = min(bisect_right(self._starts, within) - 1, len(self.segments) - 1)
        return cycle, i, within - self._starts[i]

    def rate_at(self, t: float) -> float:
        if t < 0 or (self.duration is not None and t >= self.duration):
            return 0.0
        _, i, within = self._locate(t)
        return self.segments[i].rate_at(within)

    def lines_due(self, t: float) -> float:
        cycle, i, within = self._locate(max(t, 0.0))
        return cycle * self._cycle_lines + self._lines_before[i] + self.segments[i].lines_due(within)

    def _time_of(self, k: float) -> float:
        cycle, rest = divmod(k, self._cycle_lines)
        if self.repeat is not None and cycle >= self.repeat:
            cycle, rest = self.repeat - 1, self._cycle_lines
        # The first segment whose lines reach past `rest`; silent ones are skipped.
        i = min(bisect_right(self._lines_before, rest) - 1, self._last_sending)
        segment = self.segments[i]
        within = min(rest - self._lines_before[i], segment.total_lines)
        return cycle * self._cycle_seconds + self._starts[i] + segment._time_of(within)


class Burst(Sequence):
    """`base` lines/s with a burst of `peak` for the last `length` seconds of
    every `every` seconds, for `seconds` seconds (a run starts at the base)."""

    def __init__(self, base: float, peak: float, every: float, length: float, seconds: float) -> None:
        _check(every, "every", positive=True)
        if not 0 < length <= every:
            raise ValueError(f"a burst's length must be within (0, every], not {length}")
        cycles, rest = divmod(_check(seconds, "seconds", positive=True), every)
        quiet = every - length
        cycle = [Step(r, s) for r, s in ((base, quiet), (peak, length)) if s > 0]
        tail = [Step(r, s) for r, s in ((base, min(rest, quiet)), (peak, rest - quiet)) if s > 0]
        super().__init__(([Sequence(cycle, int(cycles))] if cycles else []) + tail, repeat=1)


class Scaled(Schedule):
    """Another schedule run `factor` times faster, at the same rates."""

    def __init__(self, inner: Schedule, factor: float) -> None:
        self.inner = inner
        self.factor = _check(factor, "factor", positive=True)

    @property
    def duration(self) -> float | None:
        return None if self.inner.duration is None else self.inner.duration / self.factor

    @property
    def total_lines(self) -> float:
        return self.inner.total_lines / self.factor

    def rate_at(self, t: float) -> float:
        return self.inner.rate_at(t * self.factor)

    def lines_due(self, t: float) -> float:
        return self.inner.lines_due(t * self.factor) / self.factor

    def _time_of(self, k: float) -> float:
        return self.inner._time_of(k * self.factor) / self.factor


class Unlimited(Schedule):
    """No pacing: every line is due at once."""

    unlimited = True
    duration = None
    total_lines = math.inf

    def rate_at(self, t: float) -> float:
        return math.inf

    def lines_due(self, t: float) -> float:
        return math.inf

    def _time_of(self, k: float) -> float:
        return 0.0

    def scaled(self, factor: float) -> Schedule:
        return self


def constant(rate: float | None) -> Schedule:
    """`rate` lines per second forever; None or infinity means unlimited."""
    if rate is None or rate == math.inf:
        return Unlimited()
    if _check(rate, "rate") == 0:
        raise ValueError("a constant rate of 0 sends nothing: use None for unlimited")
    return Sequence([Step(rate, 1.0)])


def from_json(path: str | os.PathLike) -> Schedule:
    """The original tool's format: {"update_interval": S, "schedule": [r1, r2, ...]},
    rate r1 for S seconds, then r2, ..., cycling; 0 is a silent interval."""
    try:
        with open(path, encoding="utf-8") as file:
            spec = json.load(file)
    except json.JSONDecodeError as error:
        raise UserError(f"{path}:{error.lineno}:{error.colno}: {error.msg}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise UserError(f"{path}: {error.strerror}") from None
    if not isinstance(spec, dict):
        raise UserError(f'{path}: expected an object {{"update_interval": seconds, "schedule": [rates]}}')
    unknown = sorted(spec.keys() - {"update_interval", "schedule"})
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r} (expected update_interval and schedule)")
    for key in ("update_interval", "schedule"):
        if key not in spec:
            raise UserError(f"{path}: missing key {key!r}")
    interval, rates = spec["update_interval"], spec["schedule"]
    if not _is_number(interval) or interval <= 0:
        raise UserError(f"{path}: update_interval must be a number of seconds above 0, not {interval!r}")
    if not isinstance(rates, list) or not rates:
        raise UserError(f"{path}: schedule must be a non-empty list of rates, not {rates!r}")
    for i, rate in enumerate(rates):
        if not _is_number(rate) or rate < 0:
            raise UserError(f"{path}: schedule[{i}] must be a rate of 0 or more lines per second, not {rate!r}")
    if not any(rates):
        # A run would start, send nothing and end "successfully".
        raise UserError(f"schedule {path} never sends anything: every rate is 0")
    return Sequence([Step(rate, interval) for rate in rates])


Schedule.from_json = staticmethod(from_json)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(value: float, name: str, positive: bool = False) -> float:
    if not _is_number(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {'above' if positive else 'of at least'} 0, not {value!r}")
    return float(value)
