"""Pacing with an injected clock: a simulated producer sends what is due,
works for a while, sleeps what the pacer says; no real time passes."""

from __future__ import annotations

import math
import sys
from collections import Counter
from typing import Callable

import pytest

from harness.pacing import Pacer
from harness.schedule import Sequence, Step, constant, from_json


def simulate(pacer: Pacer, until: float, work: Callable[[float, int], float] = lambda now, n: 1e-4,
             chunk: int = 1000) -> list[tuple[float, float, int]]:
    """(send time, intended time, lines) of each chunk a producer sends before
    `until`: it sends at most `chunk` due lines at once, spends work(now, n)
    seconds on them, and otherwise sleeps pacer.wait()."""
    now, sent, sends = pacer.start, 0, []
    for _ in range(10_000_000):
        if now >= until:
            return sends
        due = pacer.due_count(now) - sent
        if due > 0:
            n = min(due, chunk)
            sends.append((now, pacer.intended(now, sent), n))
            sent += n
            now += work(now, n)
        else:
            wait = pacer.wait(now, sent)
            assert wait > 0, "nothing due, yet no reason to sleep"
            if wait == math.inf:
                return sends
            now += wait
    raise AssertionError("the producer never got to the end")


def per_second(sends: list[tuple[float, float, int]], seconds: int, start: float = 0.0) -> list[int]:
    counts = Counter()
    for at, _, n in sends:
        counts[int(at - start)] += n
    return [counts[s] for s in range(seconds)]


def test_rate_2000_for_10_seconds_sends_20000_lines_2000_every_second():
    sends = simulate(Pacer(constant(2000), start=500.0), until=510.0)
    assert sum(n for _, _, n in sends) == 20_000
    assert all(abs(count - 2000) <= 1 for count in per_second(sends, 10, start=500.0))


@pytest.mark.parametrize("overhead", [1 / 839 - 1 / 1000, 0.0009])
def test_time_spent_working_is_made_up_for(overhead):
    # The old tool slept 1/rate after each line, so its overhead per line
    # (1/839 - 1/1000 s) turned --rate 1000 into 839/s.
    sends = simulate(Pacer(constant(1000)), until=10.0, work=lambda now, n: overhead * n, chunk=1)
    assert sum(n for _, _, n in sends) == 10_000
    assert all(abs(count - 1000) <= 1 for count in per_second(sends, 10))


def test_the_json_schedule_gives_its_rates_in_order_twice_over_12_seconds(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text('{"update_interval": 2, "schedule": [1000, 3000, 500]}')
    sends = simulate(Pacer(from_json(path)), until=12.0)
    expected = [1000, 1000, 3000, 3000, 500, 500] * 2
    assert all(abs(got - want) <= 1 for got, want in zip(per_second(sends, 12), expected, strict=True))


@pytest.mark.parametrize("schedule, seconds, expected", [
    (constant(0.5), 10, [1, 0] * 5),
    (constant(1.5), 4, [2, 1, 2, 1]),
    (Sequence([Step(0, 1), Step(200, 1), Step(0, 1), Step(100, 1)]), 8, [0, 200, 0, 100] * 2),
    (Sequence([Step(0, 3)]), 6, [0] * 6),
])
def test_fractional_rates_and_silent_intervals(schedule, seconds, expected):
    assert per_second(simulate(Pacer(schedule), until=seconds), seconds) == expected


@pytest.mark.parametrize("producers", [2, 3])
def test_producers_sharing_a_rate_each_get_their_share(producers):
    totals = [sum(n for _, _, n in simulate(Pacer(constant(2000), share=1 / producers), until=10.0))
              for _ in range(producers)]
    assert all(abs(total - 20_000 / producers) <= 1 for total in totals)
    assert abs(sum(totals) - 20_000) <= producers


def test_a_stalled_sink_makes_the_lines_due_meanwhile_late_by_the_stall():
    pacer = Pacer(constant(1000))

    def stall_at_3(now: float, n: int) -> float:
        return 1.0 if 3.0 <= now < 3.001 else 1e-5  # one send takes a whole second

    sends = simulate(pacer, until=10.0, work=stall_at_3)
    stalled = next(i for i, (at, _, _) in enumerate(sends) if at >= 3.0)
    resumed, intended, lines = sends[stalled + 1]
    assert resumed == pytest.approx(4.0, abs=0.001)
    # One chunk carries the lines due during the stall, stamped with the
    # intended time of the first: its latency includes the whole second.
    assert resumed - intended == pytest.approx(1.0, abs=0.002)
    assert lines >= 990
    assert pacer.lag(resumed, 3001) == pytest.approx(1.0, abs=0.002)
    # Then it is on time again, and nothing was skipped.
    assert sum(n for _, _, n in sends) == 10_000
    assert all(at - intended < 0.001 for at, intended, _ in sends[stalled + 2:])


def test_high_rates_go_in_chunks_low_rates_line_by_line():
    fast = simulate(Pacer(constant(1_000_000)), until=1.0, work=lambda now, n: 0.001)
    slow = simulate(Pacer(constant(100)), until=1.0, work=lambda now, n: 0.001)
    assert min(n for _, _, n in fast[1:]) >= 900
    assert {n for _, _, n in slow} == {1}


def test_each_chunk_carries_the_intended_time_of_its_first_line():
    pacer = Pacer(constant(100), start=10.0)
    assert pacer.due_count(9.99) == 0
    assert pacer.due_count(10.0) == 1
    assert pacer.due_count(10.5) == 51  # lines 0..50, line 50 due exactly now
    assert pacer.intended(10.5, 20) == pytest.approx(10.2)
    assert pacer.wait(10.0, 1) == pytest.approx(0.01)
    assert pacer.wait(10.5, 20) == 0.0
    assert pacer.lag(10.5, 20) == pytest.approx(0.3)
    assert pacer.lag(10.0, 20) == 0.0


def test_a_finished_schedule_is_never_due_again():
    pacer = Pacer(Sequence([Step(10, 1)], repeat=1), start=0.0)
    assert pacer.due_count(100.0) == 10
    assert pacer.next_due(10) is None
    assert pacer.wait(100.0, 10) == math.inf
    assert pacer.lag(100.0, 10) == 0.0


def test_unlimited_means_no_pacing():
    pacer = Pacer(constant(None), share=0.5, start=3.0)
    assert pacer.unlimited
    assert pacer.due_count(0.0) == sys.maxsize
    assert (pacer.wait(7.0, 10**9), pacer.lag(7.0, 10**9)) == (0.0, 0.0)
    assert pacer.intended(7.0, 10**9) == 7.0


def test_target_rate_is_the_producers_share():
    pacer = Pacer(Sequence([Step(1000, 2), Step(3000, 2)]), share=0.25, start=100.0)
    assert [pacer.target_rate(100.0 + t) for t in (0, 1, 2, 3, 4)] == [250, 250, 750, 750, 250]


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_must_be_a_fraction(share):
    with pytest.raises(ValueError):
        Pacer(constant(10), share=share)
