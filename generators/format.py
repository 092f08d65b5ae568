"""What a log format module supplies, and the encoders they share."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, ClassVar, Iterable, Mapping, Sequence, TypeVar

import numpy as np

from generators.baddata import Corruption
from generators.world import DURATION_POOL, SIZE_POOL, World

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MILLIS = [b"%03d" % i for i in range(1000)]

Pools = Mapping[str, tuple[str, Sequence[bytes]]]
T = TypeVar("T")


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


def text(values: Iterable[str]) -> list[bytes]:
    return list(map(str.encode, values))


def numbers(values: Iterable[int]) -> list[bytes]:
    """Integers as text (twice as fast as `text` for the pools of tens of thousands)."""
    return list(map(b"%d".__mod__, values))


def dash_zero(values: Iterable[int]) -> list[bytes]:
    """Apache's %b: a dash for an empty body."""
    return [b"%d" % v if v else b"-" for v in values]


def statuses(world: World) -> list[bytes]:
    """The status of each response entry (parallel to `world.sizes`)."""
    out: list[bytes] = []
    for code in numbers(world.response_status):
        out += [code] * SIZE_POOL
    return out


def durations(world: World) -> list[bytes]:
    return seconds(world.durations)


def seconds(values: Sequence[float] | np.ndarray) -> list[bytes]:
    """b"%.3f" % v for each value, formatted once per distinct millisecond:
    the pools hold tens of thousands of times, mostly of a few thousand
    values. A value whose millisecond a float product cannot tell (within a
    millionth of a tie) and any value outside [0, 1e6) is formatted itself."""
    exact = np.asarray(values, dtype=np.float64)
    scaled = exact * 1000
    with np.errstate(invalid="ignore"):
        plain = ~np.signbit(exact) & (exact < 1e6) & (np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6)
    millis, where = _distinct(np.rint(scaled[plain]).astype(np.int64))
    out = np.empty(len(exact), dtype=object)
    out[plain] = np.array([b"%d.%03d" % divmod(m, 1000) for m in millis.tolist()] + [b""], dtype=object)[where]
    for i in np.flatnonzero(~plain).tolist():
        out[i] = b"%.3f" % exact[i]
    return out.tolist()


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for non-negative integers,
    without sorting when they are small (times in milliseconds)."""
    if not len(values) or values.max() >= 1 << 20:
        return np.unique(values, return_inverse=True)
    seen = np.zeros(values.max() + 1, bool)
    seen[values] = True
    return np.flatnonzero(seen), (np.cumsum(seen, dtype=np.int32) - 1)[values]


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
    that bad-data helpers can edit a value in place without breaking the quoting.
    Encoded as one array and cut at its '","' (inside a string every quote is
    escaped, so the sequence only stands between two)."""
    import orjson  # only the JSON formats need it

    strings = list(values)
    if not strings:
        return []
    return orjson.dumps(strings)[2:-2].split(b'","')


def duration_classes(world: World) -> np.ndarray:
    """The request class (index into world.CLASSES) of each `world.durations` entry."""
    return np.arange(len(world.durations)) // DURATION_POOL


def per_distinct(encode: Callable[[T], bytes], values: Iterable[T]) -> list[bytes]:
    """encode(v) for each value, called once per distinct value (many pools
    repeat a few values: rounded durations, user agents). Values that compare
    equal must encode alike."""
    values = list(values)
    encoded = {value: encode(value) for value in dict.fromkeys(values)}
    return list(map(encoded.__getitem__, values))


def picked(table: Sequence[bytes], indices: np.ndarray) -> list[bytes]:
    """table[i] for each index."""
    return np.array(table, dtype=object)[indices].tolist()
