"""Kafka through the whole harness, as users run it: the README's smoke
profile on a fresh embedded broker, an unreachable broker, and, on each
broker kind (Tansu and Apache Kafka), a broker that dies in the middle of a
run and end-to-end latency read back."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time

import jsonschema
import pytest
from hdrh.histogram import HdrHistogram

from tests.fixtures.common import ROOT, run_cli
from tests.test_run import delivered, generated

SCHEMA = json.loads((ROOT / "results" / "schema.json").read_text())


def test_smoke_profile_runs_end_to_end_and_writes_a_valid_result(tmp_path):
    done = run_cli("run", "smoke", "--results", str(tmp_path), "-q", timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    assert b"verified: all 20,000 delivered lines" in done.stderr
    [path] = list((tmp_path / "smoke").glob("*.json"))
    result = json.loads(path.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(result)
    sink = result["sinks"][0]
    assert result["totals"]["generated"] == sink["delivered"] + sink["failed"] == 20_000
    publish = sink["latency"]["publish"]
    decoded = HdrHistogram.decode(publish["hdr"])
    assert decoded.get_total_count() == publish["count"] == 20_000
    same = decoded.get_lowest_equivalent_value
    assert same(decoded.get_value_at_percentile(99)) == same(publish["p99"])


def test_unreachable_broker_is_one_line_and_exit_2(tmp_path):
    log = tmp_path / "in.log"
    log.write_bytes(b"a line\n")
    started = time.monotonic()
    done = run_cli("stream", "kafka", "--broker", "127.0.0.1:1", "--topic", "t", str(log), timeout=60)
    assert time.monotonic() - started < 15
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1 and b"127.0.0.1:1" in done.stderr, done.stderr


def test_a_broker_killed_mid_run_ends_the_run_with_everything_accounted_for(fresh_broker):
    run = subprocess.Popen([sys.executable, "-m", "harness", "run", "--sink", "kafka",
                            "--broker", fresh_broker.bootstrap, "--topic", "killed", "--lines", "5000000",
                            "--rate", "200000", "--delivery-timeout", "5", "-q"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    threading.Timer(4.0, fresh_broker.process.send_signal, (signal.SIGKILL,)).start()
    killed = time.monotonic() + 4.0
    _, stderr = run.communicate(timeout=120)
    assert time.monotonic() - killed < 60
    assert run.returncode == 1, stderr
    made = generated(stderr)
    ok, failed = delivered(stderr, "kafka")
    assert failed > 0 and ok + failed == made, stderr
    assert re.search(rb"failed: [\d,]+ lines: \w+", stderr)
    assert b"UNACCOUNTED" not in stderr and b"Traceback" not in stderr


@pytest.mark.parametrize("kind", ["tansu", "apache"])
def test_e2e_reads_back_every_delivered_line_from_the_first(tmp_path, request, kind, topic):
    """The first lines are stamped with the run's start, a moment before the
    reader is up: they count too (the reader's floor is the start). On
    Tansu, the run starts its own embedded broker; on Apache Kafka, the
    session's."""
    broker = ("--broker", request.getfixturevalue("apache_broker").bootstrap) if kind == "apache" else ()
    done = run_cli("run", "--format", "apache", "--rate", "5000", "--duration", "3", "--sink", "kafka", "--e2e",
                   *broker, "--topic", topic, "-q", "--results", str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    [path] = tmp_path.rglob("*.json")
    sink = json.loads(path.read_text())["sinks"][0]
    assert sink["latency"]["e2e"]["count"] == sink["delivered"] == 15_000
