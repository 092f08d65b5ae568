"""What a log format module supplies, and the encoders they share."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Iterable, Mapping, Sequence

import orjson

from generators.baddata import Corruption
from generators.world import DURATION_POOL, SIZE_POOL, World

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MILLIS = [b"%03d" % i for i in range(1000)]

Pools = Mapping[str, tuple[str, Sequence[bytes]]]


class Format:
    """A log layout. Fields named in `template` come from `pools` (each tied to
    the entity whose index picks it: "client", "request", "response" (status
    and size), "duration", "referer", "milli", "micro", or any other name for a uniform
    draw; "unique0".."unique3" are the bytes of a number unique to the line,
    see generators/ids.py) or from `stamp` (the second a line happened)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    template: ClassVar[str]
    corruptions: ClassVar[Mapping[str, Corruption]]
    # Written once at the top of each file or object a sink opens (CloudFront's
    # header lines); never into streams of records.
    preamble: ClassVar[bytes] = b""

    def pools(self, world: World) -> Pools:
        raise NotImplementedError

    def stamp(self, moment: datetime) -> dict[str, bytes]:
        raise NotImplementedError


def text(values: Iterable[object]) -> list[bytes]:
    return list(map(str.encode, map(str, values)))


def dash_zero(values: Iterable[int]) -> list[bytes]:
    """Apache's %b: a dash for an empty body."""
    return [b"-" if v == 0 else str(v).encode() for v in values]


def statuses(world: World) -> list[bytes]:
    """The status of each response entry (parallel to `world.sizes`)."""
    codes = text(world.response_status)
    return [code for code in codes for _ in range(SIZE_POOL)]


def durations(world: World) -> list[bytes]:
    return seconds(world.durations)


def seconds(values: Iterable[float]) -> list[bytes]:
    return [b"%.3f" % v for v in values]


def clf_time(moment: datetime) -> bytes:
    """Common Log Format time: 10/Oct/2000:13:55:36 -0700 (English months
    whatever the locale)."""
    return f"{moment.day:02d}/{MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S %z}".encode()


def iso_second(moment: datetime) -> bytes:
    """2026-01-01T00:00:00 (the caller adds fraction and offset)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S").encode()


def iso_offset(moment: datetime) -> bytes:
    """Z for UTC, else +hh:mm."""
    offset = moment.strftime("%z")
    return b"Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}".encode()


def json_inner(values: Iterable[str]) -> list[bytes]:
    """JSON string contents without the quotes (the template supplies them), so
    that bad-data helpers can edit a value in place without breaking the quoting."""
    return [orjson.dumps(v)[1:-1] for v in values]


def duration_classes(world: World) -> list[int]:
    """The request class (index into world.CLASSES) of each `world.durations` entry."""
    return [i // DURATION_POOL for i in range(len(world.durations))]
