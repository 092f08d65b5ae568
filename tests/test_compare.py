"""`logstorm compare`, table-driven, with result files built from known
numbers (through the same builder as real runs, validated by the schema):
five repetitions a side unless a case says otherwise, the verdicts, the
gate's exit status, the warnings, and the rendered formats against golden
files (LOGSTORM_UPDATE_GOLDEN=1 rewrites them). The statistics themselves:
tests/test_compare_stats.py."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pytest

from harness.report.compare import MISSING, SAME, UNJUDGED, parse_thresholds
from harness.errors import UserError
from harness.report.results import build_repeated, build_result, write_result
from tests.fixtures.common import run_cli
from tests.test_results import constructed, valid

GOLDEN = Path(__file__).parent / "golden"
ENDED = dt.datetime(2026, 5, 1, 10, 0, 10, tzinfo=dt.timezone.utc)
HOST = {"hostname": "ci-1", "cpu_model": "AMD EPYC 7763", "cores": 2, "memory_bytes": 8 << 30, "os": "Linux",
        "kernel": "6.8.0", "machine": "x86_64", "python": "3.11.7", "python_implementation": "CPython", "numpy": "2.4.6"}
LATENCIES = np.random.default_rng(3).lognormal(np.log(800), 0.5, 5000)  # us
LOW_NOISE = (1.0, 1.01, 0.99, 1.005, 0.995, 1.01, 0.99, 1.0, 1.005, 0.995)
HIGH_NOISE = (0.6, 1.4, 0.8, 1.25, 1.0, 0.7, 1.3, 0.9, 1.15, 1.05)


def single(rate: float = 100_000, latency: float = 1.0, seconds: int = 3, host: dict | None = None,
           profile: dict | None = None, minutes: int = 0, e2e: float | None = None, sinks: tuple[str, ...] = ("null",),
           logstorm: dict | None = None) -> dict:
    """One run of `seconds` seconds at `rate` lines/s into each of `sinks`,
    with latencies `latency` times the reference ones (and end-to-end
    latencies `e2e` times three times those, if given)."""
    factors = [LOW_NOISE[i % len(LOW_NOISE)] for i in range(seconds)]
    latencies = LATENCIES * latency
    outcome, spec = constructed([rate * f for f in factors], latencies, sinks=sinks,
                                e2e_us=None if e2e is None else LATENCIES * 3 * e2e)
    result = build_result("smoke", profile or {"load": {"lines": 0}}, outcome, spec, ended=ENDED + dt.timedelta(minutes=minutes))
    result["logstorm"] = {"version": "0.1.0", "commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False,
                          **(logstorm or {})}
    result["host"] = {**HOST, **(host or {})}
    return valid(result)


def run(rate: float = 100_000, latency: float = 1.0, noise: tuple[float, ...] = LOW_NOISE, runs: int = 5,
        e2e: float | None = None, **kwargs) -> dict:
    """`runs` repetitions in one combined file, repetition i's throughput
    and latencies off by noise[i] (latency the other way round)."""
    if runs == 1:
        return single(rate, latency, e2e=e2e, **kwargs)
    factors = [noise[i % len(noise)] for i in range(runs)]
    return valid(build_repeated([single(rate * f, latency / f, e2e=None if e2e is None else e2e / f, minutes=i, **kwargs)
                                 for i, f in enumerate(factors)]))


def save(tmp_path: Path, name: str, result: dict) -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(result))
    return str(path)


def verdicts(stdout: str) -> dict[str, str]:
    """{metric: verdict} from the text table (p-values left out)."""
    found = {}
    for line in stdout.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 5 and cells[0] != "metric":
            found[cells[0]] = re.sub(r" \(.*\)$", "", cells[4])
    return found


@dataclass
class Case:
    base: dict
    new: dict
    args: list[str]
    status: int
    expected: dict[str, str]
    says: list[str] = field(default_factory=list)


CASES = {
    "a 20% throughput drop with low noise fails the gate":
        Case(run(), run(rate=80_000), ["--fail-on-regression"], 1, {"throughput": "worse", "p50": SAME, "p99": SAME},
             ["1 gated metric got worse: throughput: -20.0% (95% CI -21.2% to -18.8%; threshold 5%)",
              "100,000 lines/s ±0.8%", "-20.0% [-21.2, -18.8]", "worse (p=0.008)"]),
    "a 3% change under a 5% threshold passes":
        Case(run(), run(rate=97_000), ["--fail-on-regression"], 0, {"throughput": SAME}, ["No gated metric got worse."]),
    "a 20% drop within very noisy runs is not significant":
        Case(run(noise=HIGH_NOISE), run(rate=80_000, noise=HIGH_NOISE[::-1]), ["--fail-on-regression"], 0,
             {"throughput": SAME}, ["-16.0% [-48.6, +40.0]", "(p=0.421)", "±32.2%"]),
    "a 6% drop whose interval reaches inside the 5% threshold is no change":
        Case(run(), run(rate=94_000, noise=HIGH_NOISE[:5]), ["--fail-on-regression"], 0, {"throughput": SAME}),
    "the same runs in another order are no change on every metric":
        Case(run(noise=HIGH_NOISE[:5]), run(noise=HIGH_NOISE[4::-1]), ["--fail-on-regression"], 0,
             {m: SAME for m in ("throughput", "p50", "p90", "p99", "p99.9", "max")}, ["No gated metric got worse."]),
    "latency up 30% fails the gate on p50 and p99":
        Case(run(), run(latency=1.3), ["--fail-on-regression"], 1,
             {"throughput": SAME, "p50": "worse", "p90": "worse", "p99": "worse", "p99.9": "worse"},
             ["2 gated metrics got worse"]),
    "lower latency and more throughput are better":
        Case(run(), run(rate=120_000, latency=0.7), ["--fail-on-regression"], 0,
             {"throughput": "better", "p50": "better", "p99": "better"}),
    "without --fail-on-regression a regression exits 0":
        Case(run(), run(rate=80_000), [], 0, {"throughput": "worse"}),
    "a per-metric threshold lets a 20% drop pass":
        Case(run(), run(rate=80_000), ["--threshold", "throughput:25%,p99:10%", "--fail-on-regression"], 0,
             {"throughput": SAME}, ["threshold 5%, throughput 25%, p99 10%"]),
    "a metric named in --threshold is gated":
        Case(run(), run(latency=1.3), ["--threshold", "20%,p90:10%", "--fail-on-regression"], 1,
             {"p90": "worse"}, ["3 gated metrics got worse: p50: +29.9% (95% CI +28.0% to +31.9%; threshold 20%); p90: +30.0% (95% CI "]),
    "one run a side is not judged: the change is shown and said to be unjudged":
        Case(run(runs=1), run(rate=80_000, runs=1), [], 0, {"throughput": UNJUDGED},
             ["-20.0%", "cannot judge throughput, p50, p90, p99, p99.9, max: one run is one sample: its seconds are not "
                        "independent", "at least 4 a side (profile.repeat)"]),
    "three runs against three cannot reach significance":
        Case(run(runs=3), run(rate=50_000, runs=3), [], 0, {"throughput": UNJUDGED},
             ["3 against 3 runs cannot reach significance at alpha 0.05; at least 4 a side can"]),
    "four runs a side are judged":
        Case(run(runs=4), run(rate=80_000, runs=4), ["--fail-on-regression"], 1, {"throughput": "worse"}),
    "end-to-end latency is compared, by threshold and ungated unless named":
        Case(run(e2e=1.0), run(e2e=1.5), ["--fail-on-regression"], 0,
             {"p99": SAME, "e2e_p50": "worse", "e2e_p99": "worse", "e2e_max": "worse"},
             ["worse but not gated (name it in --threshold to gate it): e2e_p50, e2e_p90, e2e_p99"]),
    "a named end-to-end metric is gated":
        Case(run(e2e=1.0), run(e2e=1.5), ["--threshold", "e2e_p99:10%", "--fail-on-regression"], 1,
             {"e2e_p99": "worse"}, ["got worse: e2e_p99: +50.0% (95% CI +47.8% to +52.3%; threshold 10%)"]),
}


@pytest.mark.parametrize("name", CASES)
def test_compare(tmp_path, name):
    case = CASES[name]
    done = run_cli("compare", save(tmp_path, "base.json", case.base), save(tmp_path, "new.json", case.new), *case.args)
    stdout = done.stdout.decode()
    assert done.returncode == case.status, (stdout, done.stderr.decode())
    found = verdicts(stdout)
    assert {metric: found.get(metric) for metric in case.expected} == case.expected, stdout
    for text in case.says:
        assert text in stdout, stdout
    assert not done.stderr, done.stderr.decode()


@pytest.mark.parametrize("change, warning", [
    ({"host": {"cpu_model": "Intel Xeon", "cores": 4}},
     "the runs come from different hosts: cpu_model 'AMD EPYC 7763' vs 'Intel Xeon', cores 2 vs 4"),
    ({"host": {"memory_bytes": 9 << 30}}, "the runs come from different hosts: memory 8.0 GiB vs 9.0 GiB"),
    ({"host": {"kernel": "6.11.0-1018-azure", "python": "3.12.1"}},
     "the runs come from different hosts: python '3.11.7' vs '3.12.1', kernel 6.8.0 vs 6.11.0-1018-azure"),
    ({"profile": {"load": {"lines": 10}}}, "the runs come from different profiles: smoke ("),
    ({"e2e": 1.0}, "sink null: end-to-end latency was measured in the new run only"),
    ({"logstorm": {"version": "0.2.0"}}, "the runs come from different logstorm versions: 0.1.0 vs 0.2.0"),
])
def test_runs_that_do_not_compare_well_warn(tmp_path, change, warning):
    done = run_cli("compare", save(tmp_path, "base.json", run()), save(tmp_path, "new.json", run(**change)))
    assert done.returncode == 0
    assert f"logstorm compare: warning: {warning}" in done.stderr.decode()
    assert warning in done.stdout.decode()


@pytest.mark.parametrize("base, new, args, status, expected, says", [
    (run(sinks=("null", "file")), run(), ["--fail-on-regression"], 1, {"file throughput": MISSING, "null p99": SAME},
     "3 gated metrics got worse: file throughput: missing in the new run; file p50: missing in the new run; file p99"),
    (run(sinks=("null", "file")), run(), [], 0, {"file p50": MISSING}, "file p99: missing in the new run"),
    # e2e metrics are not gated unless named: gone, they show, but do not fail.
    (run(e2e=1.0), run(), ["--fail-on-regression"], 0, {"e2e_p99": MISSING, "p99": SAME}, "No gated metric got worse."),
    (run(e2e=1.0), run(), ["--threshold", "e2e_p99:10%", "--fail-on-regression"], 1, {"e2e_p99": MISSING},
     "got worse: e2e_p99: missing in the new run"),
])
def test_a_metric_gone_from_the_new_run_shows_and_fails_the_gate(tmp_path, base, new, args, status, expected, says):
    done = run_cli("compare", save(tmp_path, "base.json", base), save(tmp_path, "new.json", new), *args)
    stdout = done.stdout.decode()
    assert done.returncode == status, (stdout, done.stderr.decode())
    found = verdicts(stdout)
    assert {metric: found.get(metric) for metric in expected} == expected, stdout
    assert says in stdout, stdout
    assert "base run" in done.stderr.decode()  # the warning says what only the base run has


@pytest.mark.parametrize("args", [[], ["--fail-on-regression"]])
def test_runs_with_no_metric_in_common_are_an_error(tmp_path, args):
    done = run_cli("compare", save(tmp_path, "base.json", run()), save(tmp_path, "new.json", run(sinks=("kafka",))), *args)
    stderr = done.stderr.decode()
    assert done.returncode == 2 and not done.stdout, stderr
    assert stderr.startswith("logstorm compare: error: the runs have no metric in common: "), stderr
    assert "the base run has null (throughput, p50, p90, p99, p99.9, max)" in stderr
    assert "the new run has kafka (throughput, p50, p90, p99, p99.9, max)" in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


def test_a_dirty_baseline_warns(tmp_path):
    base = run(logstorm={"dirty": True})
    done = run_cli("compare", save(tmp_path, "base.json", base), save(tmp_path, "new.json", run()), "--fail-on-regression")
    assert done.returncode == 0
    assert ("logstorm compare: warning: the base run comes from a tree with uncommitted changes (commit 0123456789): "
            "record the baseline from a clean checkout (logstorm baseline save)") in done.stderr.decode()


def test_what_does_not_change_performance_does_not_warn(tmp_path):
    """CI runners of one type differ in name, kernel build and a few hundred
    KB of memory; repeat, results folder, name and description are not the load."""
    other = run(host={"hostname": "ci-2", "kernel": "6.8.12-1017-azure", "memory_bytes": (8 << 30) - 430_000},
                profile={"name": "copy", "load": {"lines": 0}, "profile": {"repeat": 5, "results": "elsewhere"}})
    done = run_cli("compare", save(tmp_path, "base.json", run()), save(tmp_path, "new.json", other))
    assert done.returncode == 0 and not done.stderr


def test_folders_of_repeated_runs_compare_per_repetition(tmp_path):
    """Five runs a side: each repetition's throughput is one sample."""
    for i, factor in enumerate(LOW_NOISE[:5]):
        write_result(single(rate=100_000 * factor, minutes=i), tmp_path / "base", "smoke")
        write_result(single(rate=80_000 * factor, minutes=i), tmp_path / "new", "smoke")
    done = run_cli("compare", str(tmp_path / "base" / "smoke"), str(tmp_path / "new" / "smoke"), "--fail-on-regression")
    stdout = done.stdout.decode()
    assert done.returncode == 1, stdout
    assert verdicts(stdout)["throughput"] == "worse"
    assert "(p=0.008)" in stdout  # five against five, fully apart: 2 / C(10, 5)
    assert "5 runs, 15 s" in stdout


def test_a_combined_file_is_compared_like_its_folder(tmp_path):
    runs = [single(rate=100_000 * f, minutes=i) for i, f in enumerate(LOW_NOISE[:5])]
    combined = valid(build_repeated(runs))
    for result in runs:
        write_result(result, tmp_path / "folder", "smoke")
    by_folder = run_cli("compare", str(tmp_path / "folder" / "smoke"), save(tmp_path, "new.json", run(rate=80_000)))
    by_file = run_cli("compare", save(tmp_path, "combined.json", combined), save(tmp_path, "new.json", run(rate=80_000)))
    assert by_file.stdout == by_folder.stdout


GOLDEN_CASE = {"base": {}, "new": {"rate": 80_000, "latency": 0.9, "host": {"cpu_model": "Intel Xeon"}}}


@pytest.mark.parametrize("form, file", [("markdown", "compare.md"), ("bmf", "compare.bmf.json"),
                                        ("github-benchmark", "compare.github-benchmark.json")])
def test_formats_match_their_golden_files(tmp_path, form, file):
    base, new = (save(tmp_path, f"{side}.json", run(**GOLDEN_CASE[side])) for side in ("base", "new"))
    done = run_cli("compare", base, new, "--format", form, "--fail-on-regression")
    assert done.returncode == 1, done.stderr.decode()
    output = done.stdout.decode()
    golden = GOLDEN / file
    if os.environ.get("LOGSTORM_UPDATE_GOLDEN") == "1":
        golden.write_text(output)
    assert output == golden.read_text()
    if form != "markdown":
        orjson.loads(output)
        assert "worse: throughput: -20.0%" in done.stderr.decode()


@pytest.mark.parametrize("args, message", [
    (["missing.json", "new.json"], "cannot read missing.json: No such file or directory"),
    (["broken.json", "new.json"], "broken.json is not valid JSON"),
    (["empty", "new.json"], "empty holds no result files"),
    (["new.json", "new.json", "--threshold", "5 percent"], "--threshold '5 percent': expected a percentage"),
    (["new.json", "new.json", "--threshold", "p99:-3%"], "--threshold 'p99:-3%': expected a percentage"),
    (["new.json", "new.json", "--threshold", "p98:5%"], "unknown metric 'p98'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    save(tmp_path, "new.json", run())
    (tmp_path / "broken.json").write_text('{"schema_version": 1,')
    (tmp_path / "empty").mkdir()
    done = run_cli("compare", *args, cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 2
    assert stderr.startswith("logstorm compare: error: ") and message in stderr, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


@pytest.mark.parametrize("text, default, named, gated", [
    ("5%", 5.0, {}, {"throughput", "p50", "p99"}),
    ("7.5", 7.5, {}, {"throughput", "p50", "p99"}),
    ("throughput:5%,p99:10%", 5.0, {"throughput": 5.0, "p99": 10.0}, {"throughput", "p50", "p99"}),
    ("2%, max:50%, p99_9:20%", 2.0, {"max": 50.0, "p99.9": 20.0}, {"throughput", "p50", "p99", "max", "p99.9"}),
    ("E2E_P99:10%", 5.0, {"e2e_p99": 10.0}, {"throughput", "p50", "p99", "e2e_p99"}),
])
def test_parse_thresholds(text, default, named, gated):
    thresholds = parse_thresholds(text)
    assert (thresholds.default, dict(thresholds.named)) == (default, named)
    metrics = ("throughput", "p50", "p90", "p99", "p99.9", "max", "e2e_p99")
    assert {m for m in metrics if thresholds.check(m).gated} == gated
    assert thresholds.check("p99").percent == named.get("p99", default)


@pytest.mark.parametrize("text", ["x%", "p99:", "inf", "-1%", "p99:5%:1"])
def test_parse_thresholds_refuses(text):
    with pytest.raises(UserError):
        parse_thresholds(text)


def test_one_run_a_side_cannot_pass_a_gate(tmp_path):
    """A gate that cannot judge would pass whatever changed: it is an error."""
    done = run_cli("compare", save(tmp_path, "base.json", run(runs=1)), save(tmp_path, "new.json", run(rate=50_000, runs=1)),
                   "--fail-on-regression")
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert stderr.startswith("logstorm compare: error: --fail-on-regression cannot judge throughput, p50, p99: "
                             "one run is one sample"), stderr
    assert verdicts(done.stdout.decode())["throughput"] == UNJUDGED


def test_repeat_and_results_do_not_change_the_profile_hash():
    from harness.profiles.profile import load_profile
    from harness.report.results import profile_hash

    def hashed(*sets: str) -> str:
        return profile_hash(load_profile("ci", sets).resolved())

    assert hashed() == hashed("profile.repeat=2", "profile.results=elsewhere", "profile.description=another")
    assert hashed() != hashed("load.lines=1000") != hashed("sinks.0.topic=other")


def test_runs_with_overrides_get_their_own_folder(tmp_path):
    """Plain runs, and runs whose overrides do not change the load, share the
    profile's folder, which compare then reads as one set of repetitions."""
    (tmp_path / "tiny.toml").write_text('[profile]\ndescription = "tiny"\n[load]\nlines = 2000\nseed = 1\n'
                                        '[[sinks]]\nname = "null"\n')
    for extra in ([], ["--set", "profile.repeat=2"], ["--set", "load.lines=3000"], ["--sink", "stdout"]):
        done = run_cli("run", "tiny.toml", "--quiet", "--results", "out", *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode()
    folders = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert folders[0] == "tiny" and len(list((tmp_path / "out" / "tiny").glob("*.json"))) == 2
    assert len(folders) == 3 and all(re.fullmatch(r"tiny-[0-9a-f]{8}", name) for name in folders[1:]), folders
    done = run_cli("compare", "out/tiny", "out/tiny", cwd=tmp_path)
    assert done.returncode == 0 and "different profiles" not in done.stderr.decode(), done.stderr.decode()


def test_baseline_save_runs_the_profile_with_repetitions(tmp_path):
    (tmp_path / "tiny.toml").write_text('[profile]\ndescription = "tiny"\n[load]\nlines = 2000\nseed = 1\n'
                                        '[[sinks]]\nname = "null"\n')
    done = run_cli("baseline", "save", "tiny.toml", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert "baseline: results/baselines/tiny.json (4 runs of tiny)" in done.stderr.decode()
    baseline = orjson.loads((tmp_path / "results" / "baselines" / "tiny.json").read_bytes())
    assert len(baseline["repeats"]) == 4 and baseline["profile"]["name"] == "tiny"
    refused = run_cli("baseline", "save", "tiny.toml", "--repeat", "3", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.decode().count("\n") == 1, refused.stderr.decode()
