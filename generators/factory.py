"""Batches of log lines: a format, the world, a clock and bad-data injection
put together. Batch i holds lines i*B .. i*B+n-1 and depends only on the seed
and i, so any process can render any batch and the output does not depend on
how the work is split."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

import numpy as np

from generators import format_class
from generators.baddata import KINDS, Line, select
from generators.clock import Clock, SimulatedClock, WallClock
from generators.ids import ENTITIES, unique_chunks
from generators.spec import LineSpec
from generators.template import Gather, Piece, Template, pieces
from generators.traffic import sample, time_indices
from generators.world import build_world

# A corrupted line: its row in the batch, its kind, its bytes (newline included).
Mark = tuple[int, str, bytes]


@dataclass
class Batch:
    data: bytes
    lines: int
    bad: dict[str, int] = field(default_factory=dict)  # corrupted lines by kind
    marks: list[Mark] = field(default_factory=list)  # the corrupted lines, in row order


def parse_timezone(name: str) -> tzinfo:
    """UTC, an offset (+0200, -07:00) or an IANA name (Europe/Paris)."""
    if name.upper() in ("UTC", "Z"):
        return timezone.utc
    if name[:1] in "+-" and name[1:].replace(":", "").isdigit() and len(name[1:].replace(":", "")) == 4:
        digits = name[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return timezone(-delta if name[0] == "-" else delta)
    # Here: zoneinfo (and the sysconfig it reads) cost every generating
    # command 1.5 ms of start, for the few that name a zone.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use UTC, an offset like +0200, or a name like Europe/Paris)") from None


def parse_start(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--start {text!r} is not an ISO 8601 time like 2026-01-01T00:00:00+00:00") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def validate(spec: LineSpec) -> None:
    """Raise ValueError, naming the culprit, for a spec the factory would refuse
    (cheap: builds no pools)."""
    if not 0 <= spec.baddata <= 100:
        raise ValueError(f"bad-data share {spec.baddata:g} is outside 0..100")
    select(format_class(spec.format).corruptions, spec.kinds)
    parse_timezone(spec.timezone)
    parse_start(spec.start)


class LineFactory:
    def __init__(self, spec: LineSpec) -> None:
        validate(spec)
        _settle_allocator()  # first: building the pools then reuses heap memory too
        self.spec = spec
        self.format = format_class(spec.format)()
        self.kinds = select(self.format.corruptions, spec.kinds)
        self.tz = parse_timezone(spec.timezone)
        self.clock: Clock = WallClock() if spec.realtime else SimulatedClock(parse_start(spec.start), spec.clock_rate)
        self.world = build_world(spec.seed, spec.bot_share)
        self.template = Template.parse(self.format.template)
        static = self.format.pools(self.world)
        self.stamp_fields = tuple(self.format.stamp(datetime.fromtimestamp(0, self.tz)))
        entity_of = {name: entity for name, (entity, _) in static.items()} | {f: "second" for f in self.stamp_fields}
        self.pieces = pieces(self.template, entity_of)
        self.subsecond = [(f, entity_of[f]) for f in self.template.fields if entity_of[f] in ("milli", "micro")]
        self.values = {name: pool for name, (_, pool) in static.items()}
        self.gather = Gather([None if p.entity == "second" else p.pool(self.values) for p in self.pieces])
        self.uniform = {p.entity: len(self.values[p.fields[0]]) for p in self.pieces
                        if p.entity not in ("client", "request", "response", "duration", "referer", "second", "milli", "micro")
                        + ENTITIES}
        self.unique = any(p.entity in ENTITIES for p in self.pieces)  # ids unique per line

    def render(self, index: int, n: int | None = None) -> Batch:
        """Batch `index`, holding `n` lines (a whole batch by default)."""
        n = self.spec.batch_lines if n is None else n
        rng = np.random.default_rng([self.spec.seed, index])
        first_line = index * self.spec.batch_lines
        times = self.clock.times(first_line, n, rng)
        indices = sample(self.world, rng, n, first_line, self.spec.clock_rate)
        seconds, time_index = time_indices(times)
        indices |= time_index
        for entity, size in self.uniform.items():
            indices[entity] = rng.integers(0, size, n)
        if self.unique:
            indices |= unique_chunks(self.spec.seed, first_line, n)
        stamps = [self._stamp(s) for s in seconds.tolist()]
        batch_values = {f: [s[f] for s in stamps] for f in self.stamp_fields}
        per_batch = [piece.pool(batch_values) for piece in self.pieces if piece.entity == "second"]
        out = self.gather.render([indices[p.entity] for p in self.pieces], per_batch)
        if not self.spec.baddata:
            return Batch(b"".join(out), n)
        marks = self._corrupt(out, rng, n, times, indices, batch_values)
        counts = Counter(kind for _, kind, _ in marks)
        return Batch(b"".join(out), n, {kind: counts[kind] for kind in self.kinds if counts[kind]}, marks)

    def _stamp(self, second: float) -> dict[str, bytes]:
        return self.format.stamp(datetime.fromtimestamp(second, self.tz))

    def _restamp(self, moment: float) -> dict[str, bytes]:
        whole = int(moment // 1)
        us = min(int((moment - whole) * 1e6), 999_999)
        return self._stamp(whole) | {f: self.values[f][us // 1000 if entity == "milli" else us % 1000]
                                     for f, entity in self.subsecond}

    def _corrupt(self, out: list[bytes], rng: np.random.Generator, n: int, times: np.ndarray,
                 indices: dict[str, np.ndarray], batch_values: dict[str, list[bytes]]) -> list[Mark]:
        """Corrupt a share of `out`'s rows in place; one mark per bad row, in row order."""
        rows = np.flatnonzero(rng.random(n) < self.spec.baddata / 100.0)
        if not len(rows) or not self.kinds:
            return []
        kinds = rng.integers(0, len(self.kinds), len(rows))
        text_rng = random.Random(int(rng.integers(0, 2**63)))
        k = len(self.pieces)
        # Per field: its pool, and where each bad row points into it (drawn
        # out of the index arrays at once: one by one costs more than the rest).
        columns = [(name, batch_values[name] if piece.entity == "second" else self.values[name], picked)
                   for piece in self.pieces for picked in [indices[piece.entity][rows].tolist()]
                   for name in piece.fields]
        marks = []
        for j, (row, kind, moment) in enumerate(zip(rows.tolist(), kinds.tolist(), times[rows].tolist())):
            values = {name: pool[picked[j]] for name, pool, picked in columns}
            line = Line(self.template, values, moment, self._restamp, text_rng)
            out[row * k] = text = self.format.corruptions[self.kinds[kind]](line)
            out[row * k + 1:row * k + k] = [b""] * (k - 1)
            marks.append((row, self.kinds[kind], text))
        return marks


def _settle_allocator() -> None:
    """Free one block larger than any batch, so that glibc's malloc raises its
    mmap threshold past a batch's size (it does so when a mapped block is
    freed): a batch's join then reuses heap memory instead of mapping and
    faulting in fresh pages every time, which made the JSON formats' batches
    2-3 times slower depending only on what had been allocated before."""
    bytes(16 << 20)  # made and freed at once (calloc: the pages are never touched); a batch of 4,096 lines is a few MiB


__all__ = ["Batch", "KINDS", "LineFactory", "LineSpec", "Piece"]
