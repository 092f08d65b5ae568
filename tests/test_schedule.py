"""Load shapes: rates, their integrals and inverses, composition, and the
original tool's JSON schedule format with its error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.errors import UserError
from harness.load.schedule import Burst, Ramp, Sequence, Sine, Step, Unlimited, constant, from_json


def numeric_integral(schedule, t: float, steps: int = 50_001) -> float:
    grid = np.linspace(0, t, steps)
    rates = np.array([schedule.rate_at(x) for x in grid])
    return float(np.trapezoid(rates, grid))


SHAPES = {
    "step": Step(120, 7),
    "ramp up": Ramp(0, 1000, 10),
    "ramp down": Ramp(800, 50, 6),
    "sine": Sine(500, 200, 4, 10),
    "clipped sine": Sine(100, 300, 5, 12),
    "burst": Burst(10, 500, 3, 0.5, 10),
    "sequence": Sequence([Step(100, 1), Ramp(100, 300, 2), Step(0, 1), Sine(200, 100, 2, 2)], repeat=2),
    "scaled": Sequence([Step(10, 3600), Step(30, 3600)]).scaled(3600),
}


@pytest.mark.parametrize("name", SHAPES)
def test_lines_due_is_the_integral_of_the_rate(name):
    schedule = SHAPES[name]
    end = schedule.duration or 10.0
    for t in (end * 0.37, end):
        assert schedule.lines_due(t) == pytest.approx(numeric_integral(schedule, t), rel=2e-3, abs=0.5)


@pytest.mark.parametrize("name", SHAPES)
def test_time_of_line_inverts_lines_due(name):
    schedule = SHAPES[name]
    total = schedule.lines_due(schedule.duration or 10.0)
    for k in np.linspace(0, total, 57, endpoint=False)[1:]:
        t = schedule.time_of_line(k)
        assert schedule.lines_due(t) == pytest.approx(k, rel=1e-9, abs=1e-6)
        assert schedule.rate_at(t) > 0 or schedule.rate_at(t - 1e-9) > 0  # never inside a silence


@pytest.mark.parametrize("schedule, seconds, lines", [
    (Step(2000, 10), 10, 20_000),
    (Ramp(0, 1000, 10), 10, 5_000),
    (Sine(500, 200, 4, 8), 8, 4_000),  # whole periods: the mean
    (Sine(0, 100, 2, 2), 2, 100 / math.pi * 2),  # half a period of rate 0
    (Burst(10, 100, 10, 2, 30), 30, 3 * (8 * 10 + 2 * 100)),
    (Burst(10, 100, 10, 2, 25), 25, 2 * (8 * 10 + 2 * 100) + 5 * 10),  # ends inside a quiet part
])
def test_closed_form_totals(schedule, seconds, lines):
    assert schedule.lines_due(seconds) == pytest.approx(lines)
    assert schedule.lines_due(seconds + 100) == pytest.approx(lines)
    assert schedule.time_of_line(lines) is None


def test_a_line_due_at_the_start_of_a_silence_waits_until_it_ends():
    schedule = Sequence([Step(0, 2), Step(10, 1), Step(0, 3), Step(4, 1)], repeat=1)
    assert schedule.time_of_line(0) == 2.0
    assert schedule.time_of_line(9.5) == pytest.approx(2.95)
    assert schedule.time_of_line(10) == 6.0
    assert schedule.time_of_line(14) is None
    assert Sequence(schedule.segments).time_of_line(14) == 7 + 2.0  # cycling: the next cycle's first line


def test_sequences_cycle_forever_or_a_given_number_of_times():
    forever = Sequence([Step(1, 1), Step(3, 1)])
    assert forever.duration is None
    assert forever.lines_due(1000) == 2000
    assert forever.time_of_line(4001) == 2001.0
    assert forever.time_of_line(4002) == pytest.approx(2001 + 1 / 3)
    twice = Sequence([Step(1, 1), Step(3, 1)], repeat=2)
    assert (twice.duration, twice.lines_due(1000), twice.time_of_line(8)) == (4.0, 8.0, None)
    assert twice.rate_at(3.5) == 3 and twice.rate_at(4.0) == 0


def test_sequences_nest():
    inner = Sequence([Step(5, 1), Step(0, 1)], repeat=3)
    outer = Sequence([inner, Step(100, 1)], repeat=1)
    assert outer.duration == 7.0
    assert outer.lines_due(7) == 115
    assert outer.time_of_line(15) == 6.0


def test_a_silent_cycle_never_sends():
    schedule = Sequence([Step(0, 5)])
    assert schedule.time_of_line(0) is None
    assert schedule.lines_due(100) == 0


def test_scaling_runs_the_shape_faster_at_the_same_rates():
    day = Sequence([Step(10 * (h + 1), 3600) for h in range(24)], repeat=1)
    fast = day.scaled(3600)  # a day in 24 seconds
    assert fast.duration == 24.0
    assert [fast.rate_at(h + 0.5) for h in range(24)] == [10 * (h + 1) for h in range(24)]
    assert fast.lines_due(1) == 10
    assert fast.time_of_line(15) == pytest.approx(1.25)


def test_constant_rates_and_unlimited():
    assert constant(0.5).time_of_line(3) == 6.0
    assert constant(2000).lines_due(10) == 20_000
    assert constant(2000).duration is None
    assert isinstance(constant(None), Unlimited) and constant(math.inf).unlimited
    assert constant(None).time_of_line(10**9) == 0.0
    for bad in (0, -1, math.nan):
        with pytest.raises(ValueError):
            constant(bad)


@pytest.mark.parametrize("build", [
    lambda: Step(-1, 1), lambda: Step(1, 0), lambda: Step(math.inf, 1), lambda: Ramp(1, -2, 3),
    lambda: Sine(1, 1, 0, 5), lambda: Burst(1, 2, 5, 6, 10), lambda: Sequence([]),
    lambda: Sequence([Step(1, 1)], repeat=0), lambda: Sequence([constant(5)]), lambda: Step(1, 1).scaled(0),
])
def test_impossible_shapes_are_refused(build):
    with pytest.raises(ValueError):
        build()


def write(tmp_path, text: str):
    path = tmp_path / "schedule.json"
    path.write_text(text)
    return path


def test_the_json_format_cycles_through_its_rates(tmp_path):
    schedule = from_json(write(tmp_path, '{"update_interval": 2, "schedule": [1000, 3000, 0.5, 0]}'))
    assert [schedule.rate_at(t) for t in (0, 2, 4, 6, 8, 10)] == [1000, 3000, 0.5, 0, 1000, 3000]
    assert schedule.lines_due(8) == 8001
    assert schedule.duration is None


@pytest.mark.parametrize("text, where, message", [
    ('{"update_interval": 3,\n "schedule": [10, 20, 5,]\n}', "2:25", "Expecting value"),
    ('{"update_interval": 3 "schedule": [1]}', "1:23", "Expecting ',' delimiter"),
    ("", "1:1", "Expecting value"),
])
def test_a_broken_file_is_named_with_line_and_column(tmp_path, text, where, message):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as error:
        from_json(path)
    assert str(error.value) == f"{path}:{where}: {message}"


@pytest.mark.parametrize("text, culprit", [
    ('{"update_interval": 3, "schedule": [10, -5]}', "schedule[1]"),
    ('{"update_interval": 3, "schedule": []}', "non-empty"),
    ('{"update_interval": 3, "schedule": [10, "fast"]}', "schedule[1]"),
    ('{"update_interval": 3, "schedule": [true]}', "schedule[0]"),
    ('{"update_interval": 3, "schedule": [NaN]}', "schedule[0]"),
    ('{"update_interval": 0, "schedule": [1]}', "update_interval"),
    ('{"update_interval": -2, "schedule": [1]}', "update_interval"),
    ('{"update_interval": "3", "schedule": [1]}', "update_interval"),
    ('{"schedule": [1]}', "missing key 'update_interval'"),
    ('{"update_interval": 1, "schedule": [1], "rate": 3}', "unknown key 'rate'"),
    ("[1, 2]", "expected an object"),
])
def test_bad_values_are_named(tmp_path, text, culprit):
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=f"^{path}: .*") as error:
        from_json(path)
    assert culprit in str(error.value)


def test_a_missing_or_binary_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="No such file"):
        from_json(tmp_path / "nope.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{")
    with pytest.raises(UserError, match="not a UTF-8"):
        from_json(binary)
