"""Latency histograms: HdrHistogram's layout and answers, exact merges,
clamping, and the interchange format read by the `hdrhistogram` package."""

from __future__ import annotations

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from harness.report.histogram import CLAMPED, COUNTS_LEN, HIGHEST, LOWEST, SIGNIFICANT_DIGITS, SLOTS, Histogram

PERCENTILES = (0, 1, 25, 50, 75, 90, 99, 99.9, 99.99, 100)


def latencies(seed: int, n: int = 100_000) -> np.ndarray:
    """Long-tailed microsecond values from 1 us to minutes."""
    return np.random.default_rng(seed).lognormal(7, 2.5, n).astype(np.int64).clip(0, HIGHEST)


def filled(values: np.ndarray) -> Histogram:
    histogram = Histogram()
    histogram.record_many(values)
    return histogram


def reference(values: np.ndarray) -> HdrHistogram:
    histogram = HdrHistogram(LOWEST, HIGHEST, SIGNIFICANT_DIGITS)
    for value in values.tolist():
        histogram.record_value(value)
    return histogram


def test_the_layout_is_hdrhistograms():
    assert COUNTS_LEN == HdrHistogram(LOWEST, HIGHEST, SIGNIFICANT_DIGITS).counts_len
    assert SLOTS == COUNTS_LEN + 1


@pytest.mark.parametrize("p", [50, 90, 99, 99.9])
def test_percentiles_are_within_a_tenth_of_a_percent_of_numpy(p):
    values = np.random.default_rng(0).permutation(np.arange(1, 1_000_001))
    exact = np.percentile(values, p)
    assert filled(values).percentile(p) == pytest.approx(exact, rel=0.001)


@pytest.mark.parametrize("p", PERCENTILES[1:])
def test_a_percentile_is_the_top_of_the_bucket_holding_that_rank(p):
    values = latencies(1)
    rank = max(int(p * len(values) / 100 + 0.5), 1)
    exact = int(np.sort(values)[rank - 1])
    assert exact <= filled(values).percentile(p) <= exact * 1.001


def test_answers_match_the_hdrhistogram_package():
    values = latencies(2, 20_000)
    ours, theirs = filled(values), reference(values)
    assert [ours.percentile(p) for p in PERCENTILES] == [theirs.get_value_at_percentile(p) for p in PERCENTILES]
    assert (ours.total_count, ours.min, ours.max) == (theirs.get_total_count(), theirs.get_min_value(), theirs.get_max_value())
    assert ours.mean == pytest.approx(theirs.get_mean_value())


def test_record_and_record_many_agree():
    values = latencies(3, 2000)
    one_by_one = Histogram()
    for value in values.tolist():
        one_by_one.record(value)
    assert one_by_one == filled(values)
    odd = np.array([0.5, 1.5, 2.5, 1023.49, -0.4, -0.6, 1e300, float("inf"), float("-inf"), float("nan")])
    scalar = Histogram()
    for value in odd.tolist():
        scalar.record(value)
    assert scalar == filled(odd)
    assert scalar.clamped == 5
    weighted = Histogram()
    weighted.record(1234, count=5)
    assert weighted.total_count == 5 and weighted.percentile(100) == 1234


def test_merging_two_equals_recording_all_values_in_one():
    a, b = latencies(4), latencies(5)
    merged = filled(a)
    merged.add(filled(b))
    assert merged == filled(np.concatenate([a, b]))


def test_subtracting_an_earlier_state_leaves_what_came_after():
    a, b = latencies(6, 1000), latencies(7, 1000)
    later = filled(np.concatenate([a, b]))
    later.subtract(filled(a))
    assert later == filled(b)
    with pytest.raises(ValueError):
        filled(a).subtract(filled(b))


def test_out_of_range_values_are_clamped_and_counted_never_an_error():
    histogram = Histogram()
    histogram.record(-5)
    histogram.record(10**30)
    histogram.record(float("nan"))
    histogram.record_many(np.array([HIGHEST, HIGHEST + 1, -1, 7]))
    histogram.record_many(np.array([1e300, -1e300, 3.4]))
    assert histogram.clamped == 7
    assert histogram.total_count == 10
    assert histogram.min == 0
    assert histogram.max == filled(np.array([HIGHEST])).max
    assert histogram.percentile(100) >= HIGHEST


def test_an_empty_histogram_answers_zero():
    histogram = Histogram()
    assert (histogram.total_count, histogram.percentile(99), histogram.min, histogram.max, histogram.mean) == (0, 0, 0, 0, 0.0)
    assert Histogram.decode(histogram.encode()) == histogram


def test_the_hdrhistogram_package_decodes_our_encoding():
    values = latencies(8)
    ours = filled(values)
    text = ours.encode()
    assert text.startswith("HISTFAAA")
    theirs = HdrHistogram.decode(text)
    assert theirs.get_total_count() == ours.total_count
    assert [theirs.get_value_at_percentile(p) for p in PERCENTILES] == [ours.percentile(p) for p in PERCENTILES]
    assert theirs.get_max_value() == ours.max


def test_decode_reads_our_encoding_and_the_hdrhistogram_packages():
    values = latencies(9)
    ours = filled(values)
    assert Histogram.decode(ours.encode()) == ours
    assert Histogram.decode(reference(values[:5000]).encode()) == filled(values[:5000])


def test_the_clamped_count_is_not_part_of_the_interchange_format():
    histogram = filled(np.array([-1, 5]))
    decoded = Histogram.decode(histogram.encode())
    assert (decoded.total_count, decoded.clamped) == (2, 0)


@pytest.mark.parametrize("text", ["", "not base64!", "SElTVA==", HdrHistogram(1, 1000, 2).encode().decode()])
def test_decode_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        Histogram.decode(text)


def test_a_histogram_can_live_in_a_given_buffer():
    buffer = bytearray(SLOTS * 8)
    histogram = Histogram(memoryview(buffer))
    histogram.record(42)
    assert Histogram(np.frombuffer(buffer, dtype=np.int64)).percentile(50) == 42
    with pytest.raises(ValueError):
        Histogram(np.zeros(10, dtype=np.int64))
    assert CLAMPED == SLOTS - 1
