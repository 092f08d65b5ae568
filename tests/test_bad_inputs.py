"""Bad input is refused at start, before any process starts or any line is
sent: one line on stderr naming the culprit, exit status 2, no traceback.
Table-driven: each row runs the real command. A .gz input whose damage only
shows part-way through is named too, with exit status 1."""

from __future__ import annotations

import argparse
import gzip
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from sinks import kafka_options
from tests.fixtures.common import run_cli

SECRET = "pa55-w0rd-never-shown"
# A paced run of this length that really started would outlast the test's timeout.
LONG_RUN = ("--duration", "600", "--rate", "10")
START_TIMEOUT = 60


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # {tmp} stands for the test's folder of inputs
    culprit: str  # what stderr must name
    status: int = 2
    env: tuple[tuple[str, str], ...] = ()
    untouched: str | None = None  # a sink's output folder that must stay empty: nothing was sent


ZERO_STEPS = """[profile]
description = "every rate is 0"

[load]
duration = 5

[load.schedule]
[[load.schedule.steps]]
kind = "steps"
rates = [0, 0]
seconds = 1

[[sinks]]
name = "null"
"""

CASES = {
    "results under a regular file":
        Case(("logstorm", "run", "--sink", "file", "--path", "{tmp}/out", *LONG_RUN, "--results", "{tmp}/a.log/results"),
             "{tmp}/a.log/results", untouched="{tmp}/out"),
    "illegal topic name": Case(("stream", "kafka", "--topic", "bad topic/!", "{tmp}/a.log"), "bad topic/!"),
    "topic '..'": Case(("stream", "kafka", "--topic", "..", "{tmp}/a.log"), "'..'"),
    "broker port out of range": Case(("stream", "kafka", "--broker", "127.0.0.1:99999", "{tmp}/a.log"), "127.0.0.1:99999"),
    "broker without a port": Case(("stream", "kafka", "--broker", "h1:9092,kafka-1", "{tmp}/a.log"), "kafka-1"),
    "broker with a non-numeric port": Case(("stream", "kafka", "--broker", "kafka-1:http", "{tmp}/a.log"), "kafka-1:http"),
    "a module that is not a sink": Case(("stream", "os.path", "{tmp}/a.log"), "os.path"),
    "a text file named .gz": Case(("stream", "null", "{tmp}/text.gz"), "{tmp}/text.gz"),
    "a truncated small .gz": Case(("stream", "null", "{tmp}/short.gz"), "{tmp}/short.gz"),
    "a .gz broken part-way": Case(("stream", "null", "-q", "{tmp}/a.log", "{tmp}/long.gz"), "{tmp}/long.gz", status=1),
    "stdout with two producers": Case(("stream", "stdout", "-P", "2", "{tmp}/a.log"), "-P 2"),
    "an all-zero JSON schedule": Case(("stream", "null", "--schedule", "{tmp}/zeros.json", "{tmp}/a.log"), "{tmp}/zeros.json"),
    "an all-zero JSON schedule in run": Case(("logstorm", "run", "--schedule", "{tmp}/zeros.json", "-d", "5"), "{tmp}/zeros.json"),
    "an all-zero TOML schedule": Case(("logstorm", "run", "{tmp}/zeros.toml"), "zeros.toml:7: [load.schedule]"),
    "SASL towards the embedded broker":
        Case(("stream", "kafka", "--topic", "t", "--sasl-username", "u", "--sasl-password", SECRET,
              "-e", "security.protocol=SASL_PLAINTEXT", "{tmp}/a.log"), "SASL"),
    "SASL from the environment towards the embedded broker":
        Case(("stream", "kafka", "--topic", "t", "-e", "security.protocol=SASL_PLAINTEXT", "-e", "sasl.mechanism=PLAIN",
              "{tmp}/a.log"), "SASL", env=(("SASL_USERNAME", "u"), ("SASL_PASSWORD", SECRET))),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "a.log").write_bytes(b"one line\nanother line\n")
    (folder / "text.gz").write_bytes(b"not gzip at all\n")
    (folder / "short.gz").write_bytes(gzip.compress(b"a few lines\n" * 100)[:-12])
    # More than the first chunk the start-up check reads: the cut shows only part-way.
    lines = random.Random(5).randbytes(3 << 20).hex().encode()
    whole = gzip.compress(b"\n".join(lines[i:i + 100] for i in range(0, len(lines), 100)), compresslevel=1)
    (folder / "long.gz").write_bytes(whole[: len(whole) * 3 // 4])
    (folder / "zeros.json").write_text('{"update_interval": 1, "schedule": [0, 0]}')
    (folder / "zeros.toml").write_text(ZERO_STEPS)
    return folder


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_line_naming_the_culprit(inputs, name):
    case = CASES[name]
    argv = [arg.replace("{tmp}", str(inputs)) for arg in case.argv]
    command = argv[1:] if argv[0] == "logstorm" else argv
    done = run_cli(*command, env=dict(case.env), cwd=inputs, timeout=START_TIMEOUT)
    stderr = done.stderr.decode()
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert done.returncode == case.status, stderr
    assert len(lines) == 1, stderr
    assert case.culprit.replace("{tmp}", str(inputs)) in lines[0], stderr
    assert "Traceback" not in stderr and SECRET not in stderr + done.stdout.decode()
    if case.untouched:
        assert not any(Path(case.untouched.replace("{tmp}", str(inputs))).glob("**/*")), "lines were sent"


def test_good_brokers_still_pass(inputs):
    """A comma list of HOST:PORT is taken: the run gets as far as reaching it."""
    done = run_cli("stream", "kafka", "--broker", "127.0.0.1:1,[::1]:1", "--topic", "t", str(inputs / "a.log"), timeout=60)
    assert done.returncode == 2 and "cannot reach Kafka at 127.0.0.1:1,[::1]:1" in done.stderr.decode()


@pytest.mark.parametrize("broker", ["embedded", "kafka-1:9092"])
def test_credentials_reach_the_producer_whatever_the_broker(broker):
    """They were dropped for the embedded broker (which then refuses SASL at start, see CASES)."""
    parser = argparse.ArgumentParser()
    kafka_options.add_arguments(parser)
    options = kafka_options.options(parser.parse_args(["--broker", broker, "--sasl-username", "u", "--sasl-password", SECRET,
                                                       "-e", "security.protocol=SASL_PLAINTEXT"]))
    if kafka_options.needs_embedded(options):
        options = kafka_options.with_bootstrap(options, "127.0.0.1:5555")
    config = kafka_options.producer_config(options)
    assert (config["sasl.username"], config["sasl.password"], config["security.protocol"]) == ("u", SECRET, "SASL_PLAINTEXT")
