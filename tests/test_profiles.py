"""Profiles: the shipped ones load and build runs; bad files name the file,
line and key; --set and the run shortcuts override; schedules from TOML
give the rates they describe; secrets stay recognisable for the writer."""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap

import pytest

from harness.errors import UserError
from harness.profiles.profile import PROFILES_DIR, load_profile, names
from harness.report.results import redact
from tests.fixtures.common import run_cli

SHIPPED = ["bad-data", "ceiling", "ci", "ci-latency", "diurnal", "kafka-1m", "kinesis", "mqtt", "nats", "rabbitmq", "redis",
           "rsyslog-kafka", "s3-split", "smoke", "soak"]
DIURNAL = [120, 80, 60, 50, 50, 70, 150, 400, 700, 900, 1000, 1100, 1200, 1150, 1100, 1050, 1100, 1300, 1500, 1600,
           1400, 1000, 600, 300]

BASE = """\
[profile]
description = "a test profile"

[load]
lines = 1000

[[sinks]]
name = "kafka"
topic = "t"
"""


def write(tmp_path, text: str, name: str = "p.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path, sets=(), overrides=None) -> str:
    with pytest.raises(UserError) as caught:
        load_profile(str(path), sets, overrides)
    return str(caught.value)


# ---------------------------------------------------------------- shipped profiles

def test_every_shipped_profile_is_there():
    assert names() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_loads_and_builds_a_run(name):
    profile = load_profile(name)
    spec = profile.to_runspec()
    assert profile.name == name and profile.description and "\n" not in profile.description
    assert spec.sinks and spec.source.seed == profile.load.seed
    assert spec.lines > 0 or spec.duration
    json.dumps(profile.resolved())  # plain data, for result files


def test_shipped_profiles_say_what_the_issue_asks():
    smoke = load_profile("smoke").to_runspec()
    (kafka,) = smoke.sinks
    assert (kafka.name, kafka.options.verify, smoke.duration, smoke.source.format) == ("kafka", True, 10, "apache")
    # Nothing is started by building the run: the supervisor starts the embedded broker.
    assert kafka.options.brokers == ("embedded",) and not kafka.options.embedded

    million = load_profile("kafka-1m").to_runspec()
    assert (million.lines, million.generators, million.rate, million.schedule) == (1_000_000, 2, None, None)
    assert [s.name for s in million.sinks] == ["kafka"]

    bad = load_profile("bad-data").to_runspec()
    assert bad.source.baddata == 40 and bad.sinks[0].name == "filesystem"

    s3 = load_profile("s3-split").to_runspec().sinks[0].options
    assert (s3.bucket, s3.prefix, s3.linecount, s3.target.endpoint_url) == ("logstorm-demo", "demo/", 10_000, None)
    assert load_profile("kinesis").to_runspec().sinks[0].options.stream == "logstorm-demo"

    ceiling = load_profile("ceiling").to_runspec()
    assert (ceiling.lines, ceiling.generators, ceiling.sinks[0].name, ceiling.schedule) == (5_000_000, 2, "null", None)


@pytest.mark.parametrize("time_scale, seconds", [(None, 24 * 60), (3600, 24)])
def test_diurnal_replays_the_day_at_its_time_scale(time_scale, seconds):
    sets = [f"load.schedule.time_scale={time_scale}"] if time_scale else []
    spec = load_profile("diurnal", sets).to_runspec()
    hour = seconds / 24
    assert spec.schedule.duration == pytest.approx(seconds)
    assert [spec.schedule.rate_at((h + 0.5) * hour) for h in range(24)] == DIURNAL
    assert spec.lines == math.floor(sum(DIURNAL) * hour)


def test_a_profile_run_delivers_every_line(tmp_path):
    from harness.run.supervisor import supervise

    spec = load_profile("ceiling", ["load.lines=20000", "load.generators=1"]).to_runspec()
    outcome = supervise(dataclasses.replace(spec, quiet=True))
    assert outcome.status == 0
    assert outcome.totals.generated == outcome.totals.sinks[0].delivered == 20_000


# ---------------------------------------------------------------- the CLI

def test_profiles_command_lists_names_and_descriptions():
    done = run_cli("profiles")
    assert done.returncode == 0, done.stderr
    listed = dict(line.split(None, 1) for line in done.stdout.decode().splitlines())
    assert list(listed) == SHIPPED
    assert listed["smoke"] == load_profile("smoke").description


def test_a_typo_is_one_line_naming_file_line_and_key(tmp_path):
    path = write(tmp_path, BASE.replace("lines = 1000", "lines = 1000\nrat = 500"))
    done = run_cli("profiles", str(path))
    stderr = done.stderr.decode()
    assert done.returncode == 2 and done.stdout == b""
    assert stderr == f"logstorm profiles: error: {path}:6: unknown key 'rat' in [load] (did you mean 'rate'?)\n"


def test_profiles_command_prints_the_resolved_profile_without_secrets(tmp_path):
    done = run_cli("profiles", "smoke", "--set", "sinks.0.sasl_password=hunter2", "--set",
                   'sinks.0.config={"sasl.password" = "opensesame", "linger.ms" = 5}',
                   env={"SASL_PASSWORD": "fromenv"})
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "hunter2" not in out and "opensesame" not in out and "fromenv" not in out
    shown = json.loads(out)
    assert shown["sinks"][0]["config"] == {"linger.ms": "5", "sasl.password": "***"} and shown["load"]["rate"] == 2000


# ---------------------------------------------------------------- bad files

@pytest.mark.parametrize("old, new, expected", [
    ("lines = 1000", "lines = 1000\nrat = 5", ":6: unknown key 'rat' in [load] (did you mean 'rate'?)"),
    ("lines = 1000", 'lines = "many"', ':5: [load] lines must be an integer, not "many"'),
    ("lines = 1000", "lines = 1000\ngenerators = 0", ":6: [load] generators must be between 1 and 64, not 0"),
    ("lines = 1000", "lines = 1000\nbaddata = 150", ":6: [load] baddata must be between 0 and 100, not 150"),
    ("lines = 1000", "lines = 1000\nrealtime = 1", ":6: [load] realtime must be true or false, not 1"),
    ("lines = 1000", "lines = 1000\nformat = \"apachee\"", ":6: [load] format 'apachee' is not a log format"),
    ("lines = 1000", "lines = 1000\nrate = 5\n[load.schedule]\njson = \"x.json\"", ":6: [load] has both rate and"),
    ('description = "a test profile"', "", ":1: missing key 'description' in [profile]"),
    ("lines = 1000", "", ":4: missing key 'lines' or 'duration' in [load]"),
    ('name = "kafka"', 'name = "kafak"', ":8: [[sinks]] #1: unknown sink 'kafak'"),
    ('name = "kafka"', "", ":7: missing key 'name' in [[sinks]] #1"),
    ('topic = "t"', 'topc = "t"', ":9: unknown key 'topc' in [[sinks]] #1 (kafka) (did you mean 'topic'?)"),
    ('topic = "t"', "partitions = 0", ":9: [[sinks]] #1 (kafka) partitions: 0 must be between 1 and 100000"),
    ('topic = "t"', 'acks = "some"', ":9: [[sinks]] #1 (kafka) acks: invalid choice: 'some'"),
    ('topic = "t"', 'topic = ""', ":9: [[sinks]] #1 (kafka) topic is empty"),
    ('topic = "t"', "verify = \"yes\"", ':9: [[sinks]] #1 (kafka) verify must be true or false, not "yes"'),
    ('topic = "t"', 'config = ["linger.ms"]', ":9: [[sinks]] #1 (kafka) config 'linger.ms': expected KEY=VALUE"),
    ('topic = "t"', "producers = 65", ":9: [[sinks]] #1 producers must be between 1 and 64, not 65"),
    ('name = "kafka"\ntopic = "t"', 'name = "s3"', ":7: missing key 'bucket' in [[sinks]] #1 (s3)"),
    ('name = "kafka"\ntopic = "t"', 'name = "stdout"\nproducers = 2', ":9: [[sinks]] #1 (stdout) producers must be at most 1"),
    ("[[sinks]]", "[sinks]", ":7: sinks must be an array of tables"),
    ("[load]", "[lod]", ":4: unknown key 'lod' in the profile (did you mean 'load'?)"),
    ("lines = 1000", "lines = 1000\nlines = 2", ":6:10: Cannot overwrite a value"),
])
def test_bad_profile_names_file_line_and_key(tmp_path, old, new, expected):
    path = write(tmp_path, BASE.replace(old, new))
    message = error_of(path)
    assert message.startswith(f"{path}{expected}"), message


def test_bad_schedule_step_names_its_line(tmp_path):
    path = write(tmp_path, BASE.replace("lines = 1000", """\
        [load.schedule]

        [[load.schedule.steps]]
        kind = "step"
        rate = 10
        seconds = 5

        [[load.schedule.steps]]
        kind = "burst"
        base = 1
        peak = 5
        every = 2
        length = 3
        seconds = 10
        """))
    assert error_of(path) == f"{path}:12: [[load.schedule.steps]] #2 (burst): a burst's length must be within (0, every], not 3.0"
    assert error_of(path, ["load.schedule.steps.0.kind=stair"]).startswith(
        "--set load.schedule.steps.0.kind: [[load.schedule.steps]] #1: kind \"stair\" is not one of step, steps")
    assert error_of(path, ["load.schedule.steps.1.length=1", "load.schedule.steps.0.seconds=0"]) == (
        "--set load.schedule.steps.0.seconds: [[load.schedule.steps]] #1 (step): seconds must be a finite number above 0, not 0.0")


def test_a_missing_profile_lists_the_named_ones():
    with pytest.raises(UserError, match=r"no profile 'smok': not a file, nor a named profile \(bad-data, .*smoke[,)]"):
        load_profile("smok")


# ---------------------------------------------------------------- overrides

@pytest.mark.parametrize("sets, check", [
    (["load.rate=500"], lambda p: p.load.rate == 500.0 and p.to_runspec().rate == 500.0),
    (["load.duration=2.5", "load.lines=0"], lambda p: (p.load.duration, p.to_runspec().lines) == (2.5, 0)),
    (["load.realtime=true", "load.baddata_kinds=[\"junk\"]"], lambda p: p.load.realtime and p.load.baddata_kinds == ("junk",)),
    (["sinks.0.topic=other"], lambda p: p.to_runspec().sinks[0].options.topic == "other"),
    (["sinks.0.partitions=3", "sinks.0.verify=true"],
     lambda p: (p.to_runspec().sinks[0].options.partitions, p.to_runspec().sinks[0].options.verify) == (3, True)),
    (["sinks.0.broker=10.0.0.1:9092"], lambda p: p.to_runspec().sinks[0].options.brokers == ("10.0.0.1:9092",)),
    (["sinks.0.delivery-timeout=5"], lambda p: p.to_runspec().sinks[0].options.delivery_timeout == 5.0),
    (["sinks.0.topic=2026"], lambda p: p.to_runspec().sinks[0].options.topic == "2026"),
    (["sinks.1.name=null"], lambda p: [s.name for s in p.to_runspec().sinks] == ["kafka", "null"]),
    (["profile.repeat=3", "profile.results=out/r"], lambda p: (p.repeat, p.results) == (3, "out/r")),
    (["load.warmup=2", "load.duration=10"], lambda p: p.warmup == 2.0),
    (["load.schedule.steps.0.kind=step", "load.schedule.steps.0.rate=7", "load.schedule.steps.0.seconds=3"],
     lambda p: p.to_runspec().schedule.rate_at(1) == 7 and p.to_runspec().lines == 21),
])
def test_set_overrides_any_key(tmp_path, sets, check):
    assert check(load_profile(str(write(tmp_path, BASE)), sets))


@pytest.mark.parametrize("setting, expected", [
    ("load.rate", "--set 'load.rate': expected KEY.PATH=VALUE"),
    ("sinks.3.topic=x", "--set sinks.3.topic: sinks has 1 entry, numbered from 0"),
    ("load.lines.x=1", "--set load.lines.x: load.lines is not a table"),
    ("load.rate=fast", '--set load.rate: [load] rate must be a number, not "fast"'),
    ("sinks.0.topix=x", "--set sinks.0.topix: unknown key 'topix' in [[sinks]] #1 (kafka) (did you mean 'topic'?)"),
])
def test_bad_set_is_named(tmp_path, setting, expected):
    assert error_of(write(tmp_path, BASE), [setting]).startswith(expected)


def test_run_shortcuts(tmp_path):
    path = write(tmp_path, BASE + '\n[[sinks]]\nname = "null"\n')
    spec = load_profile(str(path), overrides={"broker": "h:9092", "duration": 3.0}).to_runspec()
    assert spec.sinks[0].options.brokers == ("h:9092",) and spec.duration == 3.0
    replaced = load_profile(str(path), overrides={"sink": "stdout"}).to_runspec()
    assert [s.name for s in replaced.sinks] == ["stdout"]
    both = load_profile(str(path), overrides={"sink": ["kafka", "null"], "broker": "h:9092"}).to_runspec()
    assert [s.name for s in both.sinks] == ["kafka", "null"] and both.sinks[0].options.brokers == ("h:9092",)
    assert error_of(path, overrides={"sink": "null", "broker": "h:9092"}) == "--broker: the profile has no kafka sink"
    assert error_of(path, overrides={"sink": "s3"}) == "--sink: missing key 'bucket' in [[sinks]] #1 (s3)"
    # --set comes after the shortcuts, so it can finish what --sink began.
    s3 = load_profile(str(path), ["sinks.0.bucket=b"], {"sink": "s3"}).to_runspec()
    assert s3.sinks[0].options.bucket == "b"


# ---------------------------------------------------------------- schedules

SCHEDULE = """\
[profile]
description = "shapes"

[load.schedule]
{head}

[[load.schedule.steps]]
kind = "ramp"
from = 0
to = 100
seconds = 10

[[load.schedule.steps]]
kind = "burst"
base = 10
peak = 50
every = 5
length = 1
seconds = 10

[[load.schedule.steps]]
kind = "sine"
mean = 100
amplitude = 50
period = 4
seconds = 8

[[load.schedule.steps]]
kind = "steps"
rates = [1, 0, 3]
seconds = 2

[[sinks]]
name = "null"
"""
# t -> rate over one 34 s cycle: ramp 0-10, burst 10-20 (peaks 14-15, 19-20), sine 20-28, steps 28-34.
RATES = {0: 0, 5: 50, 10: 10, 14.5: 50, 16: 10, 19.5: 50, 21: 150, 23: 50, 28.5: 1, 30.5: 0, 33: 3}


@pytest.mark.parametrize("head, scale, cycles", [("", 1, 1), ("repeat = 2", 1, 2), ("repeat = 3\ntime_scale = 10", 10, 3)])
def test_schedule_shapes_from_toml(tmp_path, head, scale, cycles):
    spec = load_profile(str(write(tmp_path, SCHEDULE.format(head=head)))).to_runspec()
    schedule = spec.schedule
    assert schedule.duration == pytest.approx(34 * cycles / scale)
    for cycle in range(cycles):
        for t, rate in RATES.items():
            assert schedule.rate_at((cycle * 34 + t) / scale) == pytest.approx(rate), (cycle, t)
    assert schedule.rate_at(34 * cycles / scale + 0.01) == 0
    # A schedule that ends gives the run its length: every line it asks for.
    assert spec.lines == math.floor(schedule.total_lines) and spec.duration is None


def test_forever_needs_an_end_and_duration_counts_the_due_lines(tmp_path):
    path = write(tmp_path, SCHEDULE.format(head='repeat = "forever"'))
    assert "missing key 'lines' or 'duration' in [load]" in error_of(path)
    spec = load_profile(str(path), ["load.duration=100"]).to_runspec()
    assert spec.schedule.duration is None and spec.schedule.rate_at(34 * 2 + 5) == 50
    assert spec.lines == math.floor(spec.schedule.lines_due(100))


def test_json_schedule_beside_the_profile(tmp_path):
    (tmp_path / "day.json").write_text('{"update_interval": 3, "schedule": [10, 20, 5]}')
    path = write(tmp_path, BASE.replace("lines = 1000", '[load.schedule]\njson = "day.json"'))
    assert "missing key 'lines' or 'duration'" in error_of(path)  # the old format cycles forever
    spec = load_profile(str(path), ["load.duration=18"]).to_runspec()
    assert [spec.schedule.rate_at(t) for t in (0, 3, 6, 9, 12)] == [10, 20, 5, 10, 20]
    assert spec.lines == 2 * 3 * (10 + 20 + 5)
    once = load_profile(str(path), ["load.schedule.repeat=1"]).to_runspec()
    assert (once.schedule.duration, once.lines) == (9, 105)
    (tmp_path / "day.json").write_text('{"update_interval": 3, "schedule": [10, -1]}')
    assert error_of(path, ["load.duration=1"]) == (
        f"{path}:6: {tmp_path / 'day.json'}: schedule[1] must be a rate of 0 or more lines per second, not -1")


def test_warmup_must_end_before_the_run(tmp_path):
    path = write(tmp_path, BASE.replace("lines = 1000", "duration = 10\nwarmup = 10"))
    assert error_of(path) == f"{path}:6: [load] warmup (10 s) must be shorter than the run (10 s)"
    spec = load_profile(str(path), ["load.warmup=2"]).to_runspec()
    assert spec.extra["warmup"] == 2.0


# ---------------------------------------------------------------- resolved

def test_resolved_fills_defaults_and_keeps_the_drawn_seed(tmp_path):
    profile = load_profile(str(write(tmp_path, BASE)))
    resolved = profile.resolved()
    assert resolved["profile"] == {"description": "a test profile", "repeat": 1, "results": "results"}
    assert resolved["load"]["seed"] == profile.to_runspec().source.seed
    assert resolved["load"]["generators"] == 1 and resolved["load"]["format"] == "apache"
    sink = resolved["sinks"][0]
    assert (sink["name"], sink["producers"], sink["topic"], sink["acks"], sink["verify"]) == ("kafka", 1, "t", "all", False)
    assert json.loads(json.dumps(resolved)) == resolved


def test_secrets_are_kept_under_names_the_writer_drops(tmp_path, monkeypatch):
    monkeypatch.setenv("SASL_PASSWORD", "fromenv")
    monkeypatch.setenv("SASL_USERNAME", "envuser")
    path = write(tmp_path, BASE.replace('topic = "t"', """\
        topic = "t"
        sasl_password = "hunter2"

        [sinks.config]
        sasl.password = "opensesame"
        linger.ms = 5
        """))
    profile = load_profile(str(path))
    sink = profile.resolved()["sinks"][0]
    assert sink["sasl_password"] == "hunter2" and sink["config"] == {"sasl.password": "opensesame", "linger.ms": "5"}
    assert "fromenv" not in json.dumps(profile.resolved()) and "envuser" not in json.dumps(profile.resolved())
    public = json.dumps(redact(profile.resolved()))
    assert "hunter2" not in public and "opensesame" not in public and '"linger.ms": "5"' in public
    assert "hunter2" not in repr(profile)
    assert profile.to_runspec().sinks[0].options.sasl_password == "hunter2"


def test_profiles_folder_is_beside_the_harness():
    assert (PROFILES_DIR / "README.md").is_file()
