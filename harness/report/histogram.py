"""Latency histograms with HdrHistogram's bucket layout, in microseconds.

The layout is the one HdrHistogram uses for a lowest discernible value of
1 us, a highest trackable value of 1 hour and 3 significant digits, so that
histograms from any process or host add up exactly and existing HdrHistogram
tools read the encoded form. Counts live in one flat int64 array which may
be a view into shared memory (see harness/transport/stats.py): one writer records,
others read without locks, each count being one aligned 8-byte store.

The array has one slot more than HdrHistogram's counts: CLAMPED, the number
of values that were out of range (negative, or above 1 hour, or NaN) and
were recorded at the nearest end of the range instead. The interchange
format has no place for it, so encode() leaves it out.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Iterator

import numpy as np

LOWEST = 1  # us
HIGHEST = 3_600_000_000  # us: one hour
SIGNIFICANT_DIGITS = 3

UNIT_MAGNITUDE = int(math.floor(math.log2(LOWEST)))
SUB_BUCKET_HALF_COUNT_MAGNITUDE = int(math.ceil(math.log2(2 * 10**SIGNIFICANT_DIGITS))) - 1
SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE
SUB_BUCKET_COUNT = 2 * SUB_BUCKET_HALF_COUNT
SUB_BUCKET_MASK = (SUB_BUCKET_COUNT - 1) << UNIT_MAGNITUDE
# Buckets double in range until one reaches past HIGHEST.
BUCKET_COUNT = 1 + (HIGHEST // (SUB_BUCKET_COUNT << UNIT_MAGNITUDE)).bit_length()
COUNTS_LEN = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT
CLAMPED = COUNTS_LEN  # index of the out-of-range count
SLOTS = COUNTS_LEN + 1  # int64 values per histogram array

# HdrHistogram V2 interchange format.
ENCODING_COOKIE = 0x1C849303 | 0x10
COMPRESSION_COOKIE = 0x1C849304 | 0x10
COOKIE_BASE_MASK = ~0xF0
PAYLOAD_HEADER = struct.Struct(">iiiiqqd")  # cookie, payload length, normalizing offset, digits, lowest, highest, ratio
OUTER_HEADER = struct.Struct(">ii")  # cookie, compressed length


def _indexes(values: np.ndarray) -> np.ndarray:
    """Counts index of each value (int64, within [0, HIGHEST])."""
    bit_length = np.frexp((values | SUB_BUCKET_MASK).astype(np.float64))[1]  # exact below 2**53
    bucket = bit_length - (UNIT_MAGNITUDE + SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
    sub_bucket = values >> (bucket + UNIT_MAGNITUDE)
    return ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (sub_bucket - SUB_BUCKET_HALF_COUNT)


def _bucket_layout() -> tuple[np.ndarray, np.ndarray]:
    """Lowest value and width of every counts index."""
    index = np.arange(COUNTS_LEN, dtype=np.int64)
    bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1
    sub_bucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT
    first = bucket < 0
    sub_bucket[first] -= SUB_BUCKET_HALF_COUNT
    bucket[first] = 0
    return sub_bucket << (bucket + UNIT_MAGNITUDE), np.int64(1) << (bucket + UNIT_MAGNITUDE)


LOWEST_VALUES, WIDTHS = _bucket_layout()


class Histogram:
    """Counts of recorded values in HdrHistogram buckets. Queries follow
    HdrHistogram: percentiles and max are the highest value equivalent to
    the bucket, min the lowest, mean uses bucket midpoints."""

    def __init__(self, counts: np.ndarray | memoryview | None = None) -> None:
        if counts is None:
            counts = np.zeros(SLOTS, dtype=np.int64)
        elif not isinstance(counts, np.ndarray):
            counts = np.frombuffer(counts, dtype=np.int64, count=SLOTS)
        if counts.shape != (SLOTS,) or counts.dtype != np.int64:
            raise ValueError(f"histogram counts must be {SLOTS} int64 values, not {counts.shape} {counts.dtype}")
        self.counts = counts

    def record(self, value_us: float, count: int = 1) -> None:
        """Record one value `count` times (plain integer arithmetic: this is
        the per-ack path, where numpy's per-call overhead would dominate)."""
        try:
            value = int(round(value_us))  # half to even, like np.rint in record_many
        except (ValueError, OverflowError):  # NaN, infinities
            value = HIGHEST + 1 if value_us > 0 else -1
        if not 0 <= value <= HIGHEST:
            self.counts[CLAMPED] += count
            value = min(max(value, 0), HIGHEST)
        bucket = (value | SUB_BUCKET_MASK).bit_length() - (UNIT_MAGNITUDE + SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
        sub_bucket = value >> (bucket + UNIT_MAGNITUDE)
        self.counts[((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket - SUB_BUCKET_HALF_COUNT] += count

    def record_many(self, values_us: np.ndarray) -> None:
        """Record every value of an array (one vectorized pass, for a whole batch)."""
        values = np.asarray(values_us)
        if values.dtype.kind == "f":
            values = np.rint(np.clip(values, -1, HIGHEST + 1))
            values[np.isnan(values)] = -1
        values = values.astype(np.int64, copy=False)
        outside = np.count_nonzero((values < 0) | (values > HIGHEST))
        if outside:
            values = np.clip(values, 0, HIGHEST)
            self.counts[CLAMPED] += outside
        np.add.at(self.counts, _indexes(values), 1)

    def add(self, other: Histogram) -> None:
        """Merge exactly: afterwards this holds the values of both."""
        self.counts += other.counts

    def subtract(self, other: Histogram) -> None:
        """Remove an earlier state of this same histogram (for per-interval figures)."""
        if np.any(other.counts > self.counts):
            raise ValueError("cannot subtract a histogram with values this one does not have")
        self.counts -= other.counts

    def copy(self) -> Histogram:
        return Histogram(self.counts.copy())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and bool(np.array_equal(self.counts, other.counts))

    @property
    def clamped(self) -> int:
        return int(self.counts[CLAMPED])

    @property
    def total_count(self) -> int:
        return int(self.counts[:COUNTS_LEN].sum())

    def percentile(self, p: float) -> int:
        """HdrHistogram's value at percentile `p` (0..100), in us; 0 when empty."""
        counts = self.counts[:COUNTS_LEN]
        cumulative = np.cumsum(counts)
        total = int(cumulative[-1])
        if total == 0:
            return 0
        target = max(int(min(p, 100.0) * total / 100 + 0.5), 1)
        index = int(np.searchsorted(cumulative, target))
        return self._highest(index) if p else int(LOWEST_VALUES[index])

    @property
    def max(self) -> int:
        recorded = np.flatnonzero(self.counts[:COUNTS_LEN])
        return self._highest(int(recorded[-1])) if len(recorded) else 0

    @property
    def min(self) -> int:
        recorded = np.flatnonzero(self.counts[:COUNTS_LEN])
        return int(LOWEST_VALUES[recorded[0]]) if len(recorded) else 0

    @property
    def mean(self) -> float:
        counts = self.counts[:COUNTS_LEN].astype(np.float64)
        total = counts.sum()
        return float(counts @ (LOWEST_VALUES + (WIDTHS >> 1)) / total) if total else 0.0

    @staticmethod
    def _highest(index: int) -> int:
        return int(LOWEST_VALUES[index] + WIDTHS[index] - 1)

    def encode(self) -> str:
        """HdrHistogram V2 compressed, base64 ("HISTFAAA..."): the counts up to the
        highest recorded one, zero runs as negative lengths, zig-zag LEB128."""
        counts = self.counts[:COUNTS_LEN]
        recorded = np.flatnonzero(counts)
        out = bytearray()
        after_last = 0
        for index in recorded.tolist():
            zeros = index - after_last
            if zeros:
                _put_varint(out, -zeros if zeros > 1 else 0)
            _put_varint(out, int(counts[index]))
            after_last = index + 1
        header = PAYLOAD_HEADER.pack(ENCODING_COOKIE, len(out), 0, SIGNIFICANT_DIGITS, LOWEST, HIGHEST, 1.0)
        compressed = zlib.compress(header + out)
        return base64.b64encode(OUTER_HEADER.pack(COMPRESSION_COOKIE, len(compressed)) + compressed).decode("ascii")

    @classmethod
    def decode(cls, text: str | bytes) -> Histogram:
        """Read the V2 compressed base64 form. Histograms with another lowest
        value or precision have other buckets and are refused (ValueError)."""
        try:
            raw = base64.b64decode(text, validate=True)
            cookie, length = OUTER_HEADER.unpack_from(raw)
            if cookie & COOKIE_BASE_MASK != COMPRESSION_COOKIE & COOKIE_BASE_MASK or length != len(raw) - OUTER_HEADER.size:
                raise ValueError("not an HdrHistogram V2 compressed histogram")
            payload = zlib.decompress(raw[OUTER_HEADER.size:])
            cookie, length, offset, digits, lowest, _, _ = PAYLOAD_HEADER.unpack_from(payload)
        except (ValueError, struct.error, zlib.error) as error:
            raise ValueError(f"not a readable HdrHistogram: {error}") from None
        if cookie & COOKIE_BASE_MASK != ENCODING_COOKIE & COOKIE_BASE_MASK:
            raise ValueError("not an HdrHistogram V2 payload")
        if digits != SIGNIFICANT_DIGITS or int(math.floor(math.log2(max(lowest, 1)))) != UNIT_MAGNITUDE or offset:
            raise ValueError(f"histogram layout (lowest {lowest}, {digits} digits, offset {offset}) differs from ours")
        histogram = cls()
        index = 0
        for value in _varints(payload[PAYLOAD_HEADER.size:PAYLOAD_HEADER.size + length]):
            if value < 0:
                index -= value
                continue
            if index >= COUNTS_LEN:
                raise ValueError("histogram holds values above one hour")
            histogram.counts[index] = value
            index += 1
        return histogram


def _put_varint(out: bytearray, value: int) -> None:
    """Zig-zag LEB128 as HdrHistogram writes it: at most 9 bytes, the 9th
    carrying 8 bits."""
    value = ((value << 1) ^ (value >> 63)) & 0xFFFF_FFFF_FFFF_FFFF
    for _ in range(8):
        if value < 0x80:
            out.append(value)
            return
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _varints(data: bytes) -> Iterator[int]:
    position = 0
    while position < len(data):
        value = shift = 0
        for _ in range(8):
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        else:
            value |= data[position] << 56
            position += 1
        yield (value >> 1) ^ -(value & 1)
