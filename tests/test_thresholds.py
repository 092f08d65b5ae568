"""Thresholds: the parser and the verdicts against golden files
(LOGSTORM_UPDATE_GOLDEN=1 rewrites them), and real runs whose profile holds
a threshold: missed exits 3 naming it, met exits 0, both recorded in the
result file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from harness.errors import UserError
from harness.report.histogram import Histogram
from harness.report.thresholds import judge, parse, parse_inline, parse_table

GOLDEN = Path(__file__).parent / "golden" / "thresholds"

PARSED = [
    ("kafka.p99", "< 50ms"), ("kafka.failed", "== 0"), ("kafka.achieved", ">= 99% target"), ("e2e.p99.9", "< 500ms"),
    ("p50", "<=2.5ms"), ("kafka.e2e.max", "< 1s"), ("kafka.p99.99", "< 800us"), ("null.mean", "!= 0us"),
    ("achieved", ">= 10k/s"), ("kafka.achieved", "> 2000"), ("kafka.lost", "< 0.1%"), ("late", "== 0"),
    # each refused, the message naming it
    ("kafka.p99", "< 50"), ("kafka.p99", "fast"), ("kafka.p99", "50ms"), ("kafka.q99", "< 5ms"), ("a.b.p99", "< 5ms"),
    (".p99", "< 5ms"), ("p101", "< 5ms"), ("e2e.failed", "== 0"), ("kafka.achieved", ">= 99%"),
    ("kafka.achieved", ">= 99 target"), ("kafka.achieved", ">= 5ms"), ("kafka.failed", "< 5ms"),
    ("kafka.p99", "< 5ms target"), ("kafka.p99", 50),
]

JUDGED = {
    "kafka.p99": "< 50ms", "kafka.p99.9": "< 50ms", "kafka.p99.99": "< 1s", "kafka.failed": "== 0",
    "kafka.achieved": ">= 99% target", "e2e.p99.9": "< 500ms", "p50": "< 5ms", "null.lost": "< 0.1%",
    "null.e2e.p99": "< 1s", "null.achieved": ">= 9900", "achieved": ">= 99.9% target", "late": "== 0",
}


def check_golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("LOGSTORM_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def shown(name: str, condition) -> str:
    try:
        t = parse(name, condition)
    except UserError as error:
        return f"{name} = {condition!r}\n  error: {error}"
    where = "every sink" if t.sink is None else t.sink
    kind = "e2e " if t.e2e else "publish " if t.unit == "us" else ""
    return (f"{name} = {condition!r}\n  {where}, {kind}{t.metric} {t.op} {t.limit:.10g} "
            f"{'(a share)' if t.relative else t.unit}")


def test_parser_matches_its_golden_file():
    check_golden("parse.txt", "\n".join(shown(name, condition) for name, condition in PARSED) + "\n")


def sink(name: str, latencies_us: list[int], e2e_us: list[int] | None, delivered: int, failed: int = 0,
         unsent: int = 0, late: int = 0, seconds: float = 10.0) -> dict:
    """A result file's sink entry, its latencies from a real histogram."""
    def figures(values: list[int]) -> dict:
        histogram = Histogram()
        for value in values:
            histogram.record(value)
        return {"hdr": histogram.encode(), "count": histogram.total_count, "p50": histogram.percentile(50),
                "p99": histogram.percentile(99), "p99_9": histogram.percentile(99.9), "max": histogram.max,
                "mean": round(histogram.mean)}

    latency = {"publish": figures(latencies_us)}
    if e2e_us:
        latency["e2e"] = figures(e2e_us)
    return {"name": name, "sent": delivered + failed + unsent, "delivered": delivered, "failed": failed, "late": late,
            "unsent": unsent, "in_doubt": 0, "delivered_per_s": delivered / seconds, "latency": latency}


def result() -> dict:
    """Ten seconds at 10,000 lines/s asked: kafka kept up but its tail is slow,
    null lost a few lines and fell short of the rate."""
    kafka = sink("kafka", [3_000] * 9_800 + [40_000] * 150 + [120_000] * 50, [20_000] * 990 + [700_000] * 10,
                 delivered=100_000)
    null = sink("null", [1_000] * 1_000, None, delivered=99_000, unsent=200, late=3)
    series = [{"t": t, "seconds": 1.0, "sinks": [{"name": n, "target": 10_000.0} for n in ("kafka", "null")]}
              for t in range(1, 11)]
    return {"sinks": [kafka, null], "series": series}


def test_verdicts_match_their_golden_file():
    verdicts = judge(parse_table(JUDGED), result())
    lines = [f"{'met   ' if v.passed else 'FAILED'} {v.message}" for v in verdicts]
    check_golden("verdicts.txt", "\n".join(lines) + "\n")


def test_unmeasured_figures_fail_rather_than_pass():
    unpaced = {**result(), "series": []}
    verdicts = judge(parse_table({"kafka.achieved": ">= 99% target", "null.e2e.p99": "< 1s"}), unpaced)
    assert [v.passed for v in verdicts] == [False, False]
    assert "not paced" in verdicts[0].message and "not measured" in verdicts[1].message


def test_nested_toml_keys_read_as_dotted_names():
    assert [t.name for t in parse_table({"kafka": {"p99": "< 5ms", "e2e": {"p99": {"9": "< 1s"}}}})] == \
        ["kafka.p99", "kafka.e2e.p99.9"]


def test_inline_form():
    t = parse_inline("kafka.p99<=50ms")
    assert (t.sink, t.metric, t.op, t.limit) == ("kafka", "p99", "<=", 50_000)
    with pytest.raises(UserError, match='threshold "p99 fifty"'):
        parse_inline("p99 fifty")


# ---------------------------------------------------------------- real runs

PROFILE = """[profile]
description = "a paced second into the null sink"

[load]
duration = 1
rate = 2000
seed = 3

[[sinks]]
name = "null"

[thresholds]
{thresholds}
"""


def run_profile(tmp_path: Path, thresholds: str, *flags: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    path = tmp_path / "gate.toml"
    path.write_text(PROFILE.format(thresholds=thresholds))
    done = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "-q", "--results", str(tmp_path / "results"),
                           *flags], capture_output=True, text=True, timeout=60)
    files = sorted((tmp_path / "results" / "gate").glob("*.json"))
    return done, orjson.loads(files[-1].read_bytes()) if files else None


def test_a_threshold_that_cannot_be_met_exits_3_naming_it(tmp_path):
    done, written = run_profile(tmp_path, '"null.p99" = "< 1us"\n"null.failed" = "== 0"')
    assert done.returncode == 3, done.stderr
    assert "threshold FAILED: null.p99 = " in done.stderr and "not < 1 µs" in done.stderr and "over, +" in done.stderr
    assert [(t["name"], t["passed"]) for t in written["thresholds"]] == [("null.p99", False), ("null.failed", True)]


def test_thresholds_that_are_met_exit_0_and_are_recorded(tmp_path):
    from tests.test_results import valid

    done, written = run_profile(tmp_path, 'null.p99 = "< 10s"\n"null.achieved" = ">= 90% target"',
                                "--threshold", "failed == 0")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("threshold met") == 3
    assert [t["name"] for t in valid(written)["thresholds"]] == ["null.p99", "null.achieved", "failed"]
    assert all(t["passed"] for t in written["thresholds"])


@pytest.mark.parametrize("line, message", [
    ('"null.p99" = "< 50"', 'gate.toml:13: threshold "null.p99" = "< 50": a latency needs a unit'),
    ('"kafka.p99" = "< 50ms"', "threshold \"kafka.p99\": the run has no sink 'kafka' (its sinks: null)"),
])
def test_a_bad_threshold_is_refused_before_the_run(tmp_path, line, message):
    done, written = run_profile(tmp_path, line)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert written is None
