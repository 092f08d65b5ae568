"""Pacing with an injected clock: a simulated producer sends what the pacer
allows, works for a while, sleeps until the time it names; no real time
passes. (Several producers sharing a rate are tested for real in
test_paced_run.py.)"""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable

import pytest

from harness.load.pacing import CHUNK_SECONDS, SEND_EVERY, Pacer
from harness.load.schedule import Sequence, Step, constant, from_json


def simulate(pacer: Pacer, until: float, work: Callable[[float, int], float] = lambda now, n: 1e-4,
             batch: int = 1000) -> list[tuple[float, float, int]]:
    """(send time, intended time, lines) of each send before `until`: the
    producer holds the lines in batches of `batch` (what a ring hands it),
    sends what next_send allows, spends work(now, n) seconds on a send, and
    otherwise sleeps until the time next_send names."""
    now, line, last_send, sends = pacer.start, 0, -math.inf, []
    for _ in range(10_000_000):
        if now >= until:
            return sends
        take, when = pacer.next_send(now, line, (line // batch + 1) * batch, last_send)
        if take:
            sends.append((now, when, take))
            line, last_send = line + take, now
            now += work(now, take)
        else:
            assert when > now, "nothing due, yet no reason to sleep"
            if when == math.inf:
                return sends
            now = when
    raise AssertionError("the producer never got to the end")


def per_second(sends: list[tuple[float, float, int]], seconds: int, start: float = 0.0) -> list[int]:
    counts = Counter()
    for at, _, n in sends:
        counts[int(at - start)] += n
    return [counts[s] for s in range(seconds)]


def test_rate_2000_for_10_seconds_sends_20000_lines_2000_every_second():
    sends = simulate(Pacer(500.0, Sequence([Step(2000, 10)], repeat=1)), until=math.inf)
    assert sum(n for _, _, n in sends) == 20_000
    # A send holds the lines due since the last one, at most SEND_EVERY ago:
    # that many may fall in the second before the one they are sent in.
    assert all(abs(count - 2000) <= 2000 * SEND_EVERY for count in per_second(sends, 10, start=500.0))
    assert all(0 <= at - intended <= SEND_EVERY + 1e-4 for at, intended, _ in sends)


@pytest.mark.parametrize("overhead", [1 / 839 - 1 / 1000, 0.0009])
def test_time_spent_working_is_made_up_for(overhead):
    # The old tool slept 1/rate after each line, so its overhead per line
    # (1/839 - 1/1000 s) turned --rate 1000 into 839/s.
    sends = simulate(Pacer(0.0, Sequence([Step(1000, 10)], repeat=1)), until=math.inf, work=lambda now, n: overhead * n,
                     batch=1)
    assert sum(n for _, _, n in sends) == 10_000
    assert all(abs(count - 1000) <= 1000 * SEND_EVERY for count in per_second(sends, 10))


def test_the_json_schedule_gives_its_rates_in_order_twice_over_12_seconds(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text('{"update_interval": 2, "schedule": [1000, 3000, 500]}')
    sends = simulate(Pacer(0.0, from_json(path)), until=12.0 - SEND_EVERY)
    expected = [1000, 1000, 3000, 3000, 500, 500] * 2
    assert all(abs(got - want) <= 3000 * SEND_EVERY for got, want in zip(per_second(sends, 12), expected, strict=True))


@pytest.mark.parametrize("schedule, seconds, expected", [
    (constant(0.5), 10, [1, 0] * 5),
    (constant(1.5), 4, [2, 1, 2, 1]),
    (Sequence([Step(0, 1), Step(200, 1), Step(0, 1), Step(100, 1)]), 8, [0, 200, 0, 100] * 2),
    (Sequence([Step(0, 3)]), 6, [0] * 6),
])
def test_fractional_rates_and_silent_intervals(schedule, seconds, expected):
    got = per_second(simulate(Pacer(0.0, schedule), until=seconds), seconds)
    # A line may go out up to SEND_EVERY after it is due: into the next second.
    assert all(abs(g - e) <= 1 + e * SEND_EVERY for g, e in zip(got, expected, strict=True)), got


def test_a_stalled_sink_makes_the_lines_due_meanwhile_late_by_the_stall():
    def stall_at_3(now: float, n: int) -> float:
        return 1.0 if 3.0 <= now < 3.01 else 1e-5  # one send takes a whole second

    sends = simulate(Pacer(0.0, Sequence([Step(1000, 10)], repeat=1)), until=math.inf, work=stall_at_3)
    stalled = next(i for i, (at, _, _) in enumerate(sends) if at >= 3.0)
    resumed, intended, _ = sends[stalled + 1]
    assert resumed == pytest.approx(sends[stalled][0] + 1.0)
    # The lines due during the stall keep their intended times: the first
    # sent after it is a whole second late.
    assert resumed - intended == pytest.approx(1.0, abs=SEND_EVERY)
    # It catches up without skipping a line, then is on time again.
    assert sum(n for _, _, n in sends) == 10_000
    on_time = next(i for i, (at, due, _) in enumerate(sends) if i > stalled and at - due <= SEND_EVERY)
    assert sends[on_time][0] < 4.1
    assert all(at - due <= SEND_EVERY + 1e-4 for at, due, _ in sends[on_time:])


def test_high_rates_go_in_chunks_low_rates_line_by_line():
    fast = simulate(Pacer(0.0, constant(1_000_000)), until=1.0, work=lambda now, n: 0.001, batch=100_000)
    slow = simulate(Pacer(0.0, constant(50)), until=1.0, work=lambda now, n: 0.001)
    # Each send holds what fell due while the last one worked (a millisecond:
    # a thousand lines), never more than CHUNK_SECONDS' worth.
    assert all(n <= 1_000_000 * CHUNK_SECONDS for _, _, n in fast)
    assert sorted(n for _, _, n in fast)[len(fast) // 2] >= 900
    assert {n for _, _, n in slow} == {1}


def test_a_producer_wakes_at_most_every_send_every_at_low_rates():
    sends = simulate(Pacer(0.0, Sequence([Step(1000, 2)], repeat=1)), until=math.inf, work=lambda now, n: 1e-6)
    assert len(sends) <= 1.05 * 2.0 / SEND_EVERY
    assert sum(n for _, _, n in sends) == 2000


def test_each_send_carries_the_intended_time_of_its_first_line():
    pacer = Pacer(10.0, constant(100))
    assert pacer.next_send(9.99, 0, 100, -math.inf) == (0, 10.0)
    assert pacer.next_send(10.0, 0, 100, -math.inf) == (1, 10.0)
    assert pacer.next_send(10.0, 1, 100, 10.0) == (0, pytest.approx(10.01))
    fast = Pacer(10.0, constant(1000))
    take, intended = fast.next_send(10.5, 200, 1000, 10.4)  # lines 200 .. 500 are due
    assert intended == pytest.approx(10.2) and take == 10  # those due within CHUNK_SECONDS of line 200
    assert fast.intended(200, 99.0) == pytest.approx(10.2)


def test_a_finished_schedule_is_never_due_again():
    pacer = Pacer(0.0, Sequence([Step(10, 1)], repeat=1))
    assert pacer.next_send(100.0, 9, 20, 99.0)[0] == 1
    assert pacer.next_send(100.0, 10, 20, 99.0) == (0, math.inf)
    assert pacer.due_at(10) is None
    assert pacer.intended(10, 100.0) == 100.0
