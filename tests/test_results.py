"""Result files: real runs give files that validate against results/schema.json,
whose totals add up and whose histograms other HdrHistogram tools read back
to the percentiles the file states; secrets never reach a file."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import orjson
import pytest
from hdrh.histogram import HdrHistogram

from generators.factory import LineSpec
from harness.load import schedule
from harness.errors import UserError
from harness.report.histogram import Histogram
from harness.run.metrics import SinkTotals, Totals
from harness.report.results import build_repeated, build_result, load_result, load_run, profile_hash, redact, write_result
from harness.run.spec import RunSpec, SinkTarget
from harness.run.supervisor import Outcome, supervise
from sinks import null

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "results" / "schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
NULL = SinkTarget("null", "sinks.null", null.Options(), producers=2)
ENDED = dt.datetime(2026, 5, 1, 10, 0, 10, tzinfo=dt.timezone.utc)
SECRET = "hunter2-not-for-files"
PROFILE = {"description": "test", "load": {"lines": 40_000, "seed": 7},
           "sinks": [{"name": "kafka", "sasl_password": SECRET, "config": [f"sasl.password={SECRET}", "linger.ms=5"]}]}


def valid(result: dict) -> dict:
    """The result after a JSON round trip, checked against the schema."""
    loaded = orjson.loads(orjson.dumps(result))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(loaded)]
    assert not errors, errors
    return loaded


def constructed(rates: list[float], latencies_us: np.ndarray, sinks: tuple[str, ...] = ("null",),
                p50s: list[int] | None = None, p99s: list[int] | None = None, e2e_us: np.ndarray | None = None,
                failed: int = 0) -> tuple[Outcome, RunSpec]:
    """An Outcome as supervise() returns it, for a run of len(rates) seconds
    whose per-second records (shaped as metrics.interval_record makes them)
    hold the given achieved rates and p50/p99 latencies."""
    typical = [int(np.percentile(latencies_us, p)) if len(latencies_us) else None for p in (50, 99)]
    p50s = p50s or [typical[0]] * len(rates)
    p99s = p99s or [typical[1]] * len(rates)
    series, total = [], 0
    for second, (rate, p50, p99) in enumerate(zip(rates, p50s, p99s), 1):
        total += int(rate)
        series.append({"t": float(second), "seconds": 1.0, "generated": rate, "generated_total": total,
                       "generators": [{"name": "generator-0", "rate": rate, "ring_fill": 0.25}], "bad": {},
                       "sinks": [{"name": name, "target": None, "sent": rate, "delivered": rate, "failed": 0, "late": 0,
                                  "delivered_total": total, "failed_total": 0, "lag_s": 0.0,
                                  "p50_us": p50, "p99_us": p99, "p999_us": p99} for name in sinks]})
    targets = []
    for name in sinks:
        publish = Histogram()
        publish.record_many(latencies_us)
        target = SinkTotals(name, sent=total, delivered=total - failed, failed=failed, publish=publish)
        if e2e_us is not None:
            target.e2e = Histogram()
            target.e2e.record_many(e2e_us)
        targets.append(target)
    totals = Totals(generated=total, bytes=total * 216, bad={"truncated": 3}, sinks=targets)
    outcome = Outcome(totals=totals, status=1 if failed else 0, failures={"timeout": failed} if failed else {},
                      series=series, seconds=float(len(rates)))
    spec = RunSpec(source=LineSpec(seed=7), sinks=tuple(SinkTarget(name, "sinks.null", null.Options()) for name in sinks))
    return outcome, spec


@pytest.fixture(scope="module")
def real_runs() -> dict[str, tuple[Outcome, RunSpec, dict]]:
    """Two real runs to the null sink: as fast as possible, and paced."""
    unpaced = RunSpec(source=LineSpec(seed=5), sinks=(NULL,), generators=2, lines=40_000, quiet=True)
    shape = schedule.constant(2000)
    paced = RunSpec(source=LineSpec(seed=6), sinks=(NULL,), lines=math.floor(shape.lines_due(3)), duration=3,
                    schedule=shape, quiet=True)
    runs = {}
    for name, spec in (("unpaced", unpaced), ("paced", paced)):
        outcome = supervise(spec)
        assert outcome.status == 0, outcome.errors
        runs[name] = (outcome, spec, build_result(name, PROFILE, outcome, spec))
    return runs


@pytest.mark.parametrize("name", ["unpaced", "paced"])
def test_a_real_run_gives_a_valid_result_whose_totals_add_up(real_runs, name):
    outcome, spec, result = real_runs[name]
    result = valid(result)
    assert result["totals"]["generated"] == spec.lines
    for sink in result["sinks"]:
        assert sink["delivered"] + sink["failed"] == result["totals"]["generated"]
        assert sink["latency"]["publish"]["count"] == sink["delivered"]
    assert result["seed"] == spec.source.seed
    assert result["duration_s"] == pytest.approx(outcome.seconds, abs=0.001)
    assert result["series"], "per-second records"
    assert result["host"]["cores"] >= 1 and "librdkafka" not in result["host"]


def test_a_paced_run_records_its_target_rate_every_second(real_runs):
    _, _, result = real_runs["paced"]
    assert {s["sinks"][0]["target"] for s in result["series"]} == {2000.0}
    unpaced = real_runs["unpaced"][2]
    assert {s["sinks"][0]["target"] for s in unpaced["series"]} == {None}


@pytest.mark.parametrize("name", ["unpaced", "paced"])
def test_histograms_decode_with_hdrhistogram_to_the_stated_percentiles(real_runs, name):
    _, _, result = real_runs[name]
    figures = result["sinks"][0]["latency"]["publish"]
    reference = HdrHistogram.decode(figures["hdr"])
    assert reference.get_total_count() == figures["count"] > 0
    same = reference.get_lowest_equivalent_value
    for key, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99)):
        assert same(reference.get_value_at_percentile(p)) == same(figures[key]), key
    assert same(reference.get_max_value()) == same(figures["max"])
    assert reference.get_mean_value() == pytest.approx(figures["mean"], rel=0.01, abs=1)


def test_secrets_never_reach_the_file(real_runs, tmp_path):
    _, _, result = real_runs["unpaced"]
    path = write_result(result, tmp_path, "unpaced")
    text = path.read_text()
    assert SECRET not in text
    resolved = load_result(path)["profile"]["resolved"]
    assert resolved["sinks"][0]["sasl_password"] == "***"
    assert resolved["sinks"][0]["config"] == ["sasl.password=***", "linger.ms=5"]


@pytest.mark.parametrize("given, expected", [
    ({"password": "p", "user": "u"}, {"password": "***", "user": "u"}),
    ({"kafka": {"SASL_PASSWORD": "p", "sasl.username": "u"}}, {"kafka": {"SASL_PASSWORD": "***", "sasl.username": "u"}}),
    ({"aws_secret_access_key": "k", "aws_session_token": "t", "region": "eu-west-1"},
     {"aws_secret_access_key": "***", "aws_session_token": "***", "region": "eu-west-1"}),
    ({"sasl.jaas.config": "org...required password=x;"}, {"sasl.jaas.config": "***"}),
    ({"credentials": {"key": "k", "secret": "s"}}, {"credentials": "***"}),
    ({"config": ["sasl.password=a=b", "compression.type=zstd"]}, {"config": ["sasl.password=***", "compression.type=zstd"]}),
    ({"config": [["ssl.key.password", "x"], ["acks", "all"]]}, {"config": [["ssl.key.password", "***"], ["acks", "all"]]}),
    ({"endpoint": "https://user:pw@example.com/x"}, {"endpoint": "https://user:***@example.com/x"}),
    ({"topic": "t", "lines": 10, "rate": 1.5}, {"topic": "t", "lines": 10, "rate": 1.5}),
])
def test_redact(given, expected):
    assert redact(given) == expected


def test_the_profile_hash_ignores_key_order_and_secret_values():
    one = {"a": 1, "sink": {"topic": "t", "password": "x"}}
    two = {"sink": {"password": "y", "topic": "t"}, "a": 1}
    assert profile_hash(one) == profile_hash(two)
    assert profile_hash(one) != profile_hash({**one, "a": 2})


def test_nan_and_infinity_become_null():
    outcome, spec = constructed([1000.0] * 3, np.full(100, 50))
    outcome.series[0]["sinks"][0]["lag_s"] = math.nan
    result = build_result("odd", {"rate": math.inf, "shape": [math.nan, 1.0]}, outcome, spec, extra={"ratio": -math.inf})
    assert result["profile"]["resolved"] == {"rate": None, "shape": [None, 1.0]}
    assert result["extra"] == {"ratio": None}
    assert result["series"][0]["sinks"][0]["lag_s"] is None
    valid(result)


def test_an_empty_histogram_and_a_zero_length_run_give_nulls_not_nan():
    outcome, spec = constructed([], np.array([], dtype=np.int64))
    result = valid(build_result("empty", {}, outcome, spec))
    assert result["throughput"]["generated_per_s"] is None
    assert result["sinks"][0]["latency"]["publish"]["p99"] is None


def test_end_to_end_latency_is_kept_when_measured():
    outcome, spec = constructed([1000.0] * 3, np.full(100, 50), e2e_us=np.full(100, 900))
    result = valid(build_result("e2e", {}, outcome, spec))
    assert result["sinks"][0]["latency"]["e2e"]["count"] == 100
    assert HdrHistogram.decode(result["sinks"][0]["latency"]["e2e"]["hdr"]).get_max_value() >= 900


def test_write_result_numbers_files_and_load_result_reads_them_back(tmp_path):
    outcome, spec = constructed([1000.0] * 3, np.full(100, 50))
    result = build_result("smoke", {}, outcome, spec, ended=ENDED)
    first = write_result(result, tmp_path / "results", "smoke")
    second = write_result(result, tmp_path / "results", "smoke")
    assert first.relative_to(tmp_path) == Path("results/smoke/0001_20260501T100007Z.json")
    assert second.name == "0002_20260501T100007Z.json"
    text = first.read_text()
    assert text.startswith('{\n  "duration_s"'), "indented, keys sorted"
    assert load_result(first) == valid(result)


def test_build_repeated_adds_up_merges_histograms_and_keeps_every_repetition():
    runs = []
    for i, latency in enumerate((100, 200, 300)):
        outcome, spec = constructed([1000.0 * (i + 1)] * 2, np.full(10, latency))
        runs.append(build_result("smoke", {"x": 1}, outcome, spec, ended=ENDED + dt.timedelta(minutes=i)))
    combined = valid(build_repeated(runs[:2]))
    combined = valid(build_repeated([combined, runs[2]]))  # a combined file combines further
    assert len(combined["repeats"]) == 3
    assert combined["totals"]["generated"] == 2000 + 4000 + 6000
    assert combined["duration_s"] == 6
    assert combined["sinks"][0]["delivered_per_s"] == 2000
    publish = combined["sinks"][0]["latency"]["publish"]
    assert publish["count"] == 30 and publish["p50"] == 200 and publish["max"] == 300
    assert [s["repeat"] for s in combined["series"]] == [0, 0, 1, 1, 2, 2]
    assert combined["started"] == runs[0]["started"] and combined["ended"] == runs[2]["ended"]


def test_build_repeated_refuses_different_profiles():
    outcome, spec = constructed([1000.0] * 2, np.full(10, 100))
    with pytest.raises(ValueError, match="different profiles"):
        build_repeated([build_result("a", {"x": 1}, outcome, spec), build_result("a", {"x": 2}, outcome, spec)])


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    (b"{not json", "is not valid JSON"),
    (b"[1, 2]", "not a logstorm result file"),
    (b'{"schema_version": 99}', "schema_version 99"),
    (b'{"schema_version": 1, "profile": {}}', "is missing or malformed"),
])
def test_load_result_names_the_file_when_it_cannot_use_it(tmp_path, content, message):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message) as caught:
        load_result(path)
    assert str(path) in str(caught.value)


def test_load_run_of_an_empty_folder_says_so(tmp_path):
    with pytest.raises(UserError, match="holds no result files"):
        load_run(tmp_path)


def test_host_facts_name_librdkafka_only_for_kafka_runs_without_importing_confluent_kafka():
    import confluent_kafka

    code = ("import sys; from harness.report.hostinfo import host; h = host(); k = host(kafka=True); "
            "print('confluent_kafka' in sys.modules, 'librdkafka' in h, k.get('librdkafka'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.split() == ["False", "False", confluent_kafka.libversion()[0]], done.stderr


def test_a_result_start_reads_as_utc_whatever_the_local_zone():
    """A merge lines shards up by each result's start: on a host outside UTC
    the stamp used to be read as local time, hours off."""
    code = ("from harness.report.merge import _start; "
            "print(_start({'started': '2026-05-01T10:00:07.250Z', 'shards': [{'start_at': None}]}))")
    expected = dt.datetime(2026, 5, 1, 10, 0, 7, 250000, tzinfo=dt.timezone.utc).timestamp()
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                              env={**os.environ, "TZ": zone})
        assert float(done.stdout) == expected, (zone, done.stderr)


def test_a_checkout_names_its_commit_and_whether_tracked_files_changed(tmp_path):
    """From a clone: clean, then a change under results/ (data: still clean),
    then a change to a tracked source file (dirty)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=120)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True).stdout.strip()
    code = "from harness.report.checkout import checkout_commit; print(checkout_commit())"

    def asked() -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(clone)})
        return done.stdout.strip() or done.stderr

    assert asked() == str({"commit": head, "dirty": False})
    (clone / "results" / "baselines" / "ci.json").write_text("{}")
    assert asked() == str({"commit": head, "dirty": False})
    with (clone / "README.md").open("a") as readme:
        readme.write("\nchanged\n")
    assert asked() == str({"commit": head, "dirty": True})
