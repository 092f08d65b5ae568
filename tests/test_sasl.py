"""SASL_SSL as users meet it on Confluent Cloud, against the session's real
Apache Kafka: the old tool's exact flags (`-e security.protocol=SASL_SSL -e
sasl.mechanisms=PLAIN`, the CA through `-e ssl.ca.location=`) with the
credentials in SASL_USERNAME / SASL_PASSWORD; SCRAM-SHA-512 through `run`
with a result file; a wrong password is one line and exit 2 within
seconds. The password appears in no output, log or result file."""

from __future__ import annotations

import json
import time

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.kafka import SASL_USER


def sasl_flags(broker, mechanism: str = "PLAIN", ca: bool = True) -> list[str]:
    flags = ["--broker", broker.sasl_bootstrap, "-e", "security.protocol=SASL_SSL",
             "-e", f"sasl.mechanisms={mechanism}"]
    return flags + ["-e", f"ssl.ca.location={broker.ca_pem}"] if ca else flags


def credentials(broker, password: str | None = None) -> dict[str, str]:
    return {"SASL_USERNAME": SASL_USER, "SASL_PASSWORD": password or broker.users[SASL_USER]}


def assert_secret_nowhere(secret: str, *texts: bytes | str) -> None:
    for text in texts:
        assert secret not in (text.decode(errors="replace") if isinstance(text, bytes) else text)


@pytest.fixture(scope="module")
def lines_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sasl") / "apache.log"
    with open(path, "wb") as out:
        done = run_cli("generate", "-i", "100000", "-s", "3")
        out.write(done.stdout)
    return path


def test_the_old_tools_command_line_delivers_100k_lines_exactly_once(apache_broker, topic, lines_file):
    secret = apache_broker.users[SASL_USER]
    done = run_cli("stream", "kafka", *sasl_flags(apache_broker), "--topic", topic, "--verify", "-q", str(lines_file),
                   env=credentials(apache_broker), timeout=180)
    assert done.returncode == 0, done.stderr
    assert b"verified: all 100,000 delivered lines" in done.stderr and b"exactly once" in done.stderr
    assert_secret_nowhere(secret, done.stdout, done.stderr, apache_broker.log_path.read_text(errors="replace"))


def test_scram_sha_512_run_writes_a_result_without_the_password(apache_broker, topic, tmp_path):
    secret = apache_broker.users[SASL_USER]
    done = run_cli("run", "--sink", "kafka", *sasl_flags(apache_broker, "SCRAM-SHA-512"), "--topic", topic,
                   "--lines", "20000", "--verify", "-q", "--results", str(tmp_path), env=credentials(apache_broker),
                   timeout=180)
    assert done.returncode == 0, done.stderr
    assert b"verified: all 20,000 delivered lines" in done.stderr
    [path] = tmp_path.rglob("*.json")
    assert json.loads(path.read_text())["sinks"][0]["delivered"] == 20_000
    assert_secret_nowhere(secret, done.stdout, done.stderr, path.read_text())


def test_a_wrong_password_is_one_line_and_exit_2_within_15_s(apache_broker, topic, lines_file):
    wrong = "not-the-" + apache_broker.users[SASL_USER]
    started = time.monotonic()
    done = run_cli("stream", "kafka", *sasl_flags(apache_broker), "--topic", topic, str(lines_file),
                   env=credentials(apache_broker, wrong), timeout=60)
    assert time.monotonic() - started < 15
    assert done.returncode == 2, done.stderr
    assert done.stderr.count(b"\n") == 1, done.stderr
    assert b"Authentication failed" in done.stderr and apache_broker.sasl_bootstrap.encode() in done.stderr
    assert_secret_nowhere(wrong, done.stdout, done.stderr)
    assert b"Traceback" not in done.stderr


def test_without_the_ca_the_certificate_is_refused_in_one_line(apache_broker, topic, lines_file):
    done = run_cli("stream", "kafka", *sasl_flags(apache_broker, ca=False), "--topic", topic, str(lines_file),
                   env=credentials(apache_broker), timeout=60)
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1, done.stderr
    assert b"certificate" in done.stderr.lower()
