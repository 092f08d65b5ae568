"""find-rate: the search on its own (pure, table-driven), and the command
against a real run of a test sink with a known ceiling (tests/sinks/throttle.py):
it finds that ceiling within 10 %, writes every step to its result file, and
on Ctrl-C reports the best rate found so far."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from harness.load.ratesearch import RateSearch
from harness.report.charts import charts
from tests.fixtures.common import ROOT, run_cli

CEILING = 5000
PROFILE = f"""[profile]
description = "a sink that takes at most {CEILING} lines/s"

[load]
duration = 1
rate = 1000
seed = 5

[[sinks]]
name = "tests.sinks.throttle"
throttle_rate = {CEILING}
"""


@pytest.mark.parametrize("start, ceiling, limit, tried, answer", [
    # doubling until a miss, then halving the gap until it is within 5 %; a miss is tried twice
    (1000, None, 5000, [1000, 2000, 4000, 8000, 8000, 6000, 6000, 5000, 5500, 5500, 5250, 5250], 5000),
    (1000, None, 3000, [1000, 2000, 4000, 4000, 3000, 3500, 3500, 3250, 3250, 3125, 3125], 3000),
    # the ceiling of the search holds: nothing above it is tried
    (1000, 3000, 10_000, [1000, 2000, 3000], 3000),
    # the first step misses twice: no answer, nothing lower is guessed
    (1000, None, 500, [1000, 1000], None),
])
def test_search_doubles_then_bisects(start, ceiling, limit, tried, answer):
    search = RateSearch(start, ceiling)
    while (rate := search.next()) is not None:
        search.record(rate, held=rate <= limit)
    assert [rate for rate, _ in search.tried] == tried
    assert search.answer == answer


def test_a_miss_that_does_not_repeat_does_not_lower_the_answer():
    search, noisy = RateSearch(1000), iter([True, True, False])  # 4000 misses once, in a slow spell
    while (rate := search.next()) is not None:
        search.record(rate, held=rate <= 5000 and next(noisy, True))
    assert [rate for rate, _ in search.tried][:4] == [1000, 2000, 4000, 4000]
    assert search.answer == 5000


def find_rate(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "throttled.toml"
    profile.write_text(PROFILE)
    return run_cli("find-rate", str(profile), "--results", str(tmp_path / "results"), *flags, timeout=120)


def written(tmp_path: Path) -> dict:
    return orjson.loads(next((tmp_path / "results" / "throttled-find-rate").glob("*.json")).read_bytes())


@pytest.mark.slow
def test_finds_the_ceiling_of_a_throttled_sink_within_10_percent(tmp_path):
    from tests.test_results import valid

    began = time.monotonic()
    done = find_rate(tmp_path, "--slo", "p99 < 250ms", "--from", "2000", "--step-seconds", "2")
    print(f"find-rate took {time.monotonic() - began:.1f} s")
    assert done.returncode == 0, done.stderr.decode()
    found = valid(written(tmp_path))["find_rate"]
    assert abs(found["answer"] - CEILING) <= 0.1 * CEILING, found
    assert f"highest rate that held: {found['answer']:,.0f} lines/s" in done.stdout.decode()
    rates = [step["rate"] for step in found["steps"]]
    assert rates[:3] == [2000, 4000, 8000] and all(rates.count(rate) <= 2 for rate in rates)  # a miss is tried twice
    missed = [step for step in found["steps"] if not step["passed"]]
    assert missed and all(step["why"] for step in missed) and min(s["rate"] for s in missed) > found["answer"]
    # its report charts latency and achieved rate against the rate asked
    chart = charts([written(tmp_path)])[0]
    assert chart["kind"] == "rate" and chart["lines"][0]["x"] == sorted(rates)


def test_no_rate_that_holds_exits_3(tmp_path):
    done = find_rate(tmp_path, "--slo", "p99 < 1us", "--from", "1000", "--step-seconds", "2")
    assert done.returncode == 3, done.stderr.decode()
    assert "no rate tried held" in done.stdout.decode()
    assert written(tmp_path)["find_rate"]["answer"] is None


@pytest.mark.parametrize("flags, message", [
    (["--slo", "p99 fast"], '--slo "p99 fast": write a subject, an operator and a limit'),
    (["--slo", "kafka.p99 < 5ms"], "the run has no sink 'kafka'"),
    (["--slo", "p99 < 5ms", "--from", "5000", "--to", "100"], "--to 100 is below --from 5000"),
])
def test_bad_flags_are_one_line(tmp_path, flags, message):
    done = find_rate(tmp_path, *flags)
    assert done.returncode == 2 and message in done.stderr.decode() and b"Traceback" not in done.stderr


def test_ctrl_c_reports_the_best_rate_so_far(tmp_path):
    profile = tmp_path / "throttled.toml"
    profile.write_text(PROFILE)
    process = subprocess.Popen([sys.executable, "-m", "harness", "find-rate", str(profile), "--slo", "p99 < 10s",
                                "--from", "1000", "--step-seconds", "2", "--results", str(tmp_path / "results")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        for line in process.stderr:  # the second step is under way once the first is reported
            if b"held" in line:
                break
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, err.decode()
    assert "highest rate that held: 1,000 lines/s" in out.decode()
    assert written(tmp_path)["find_rate"]["interrupted"] is True
