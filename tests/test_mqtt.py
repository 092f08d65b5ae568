"""The MQTT sink against a real mosquitto: the conformance suite,
exactly-once read-back by a subscriber started before the run, QoS 2, and
QoS 0 honestly unacknowledged."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time

import pytest

from harness.servers.local import free_port
from harness.servers.mosquitto import Mosquitto
from tests.conformance import SinkConformance, Target
from tests.conformance.suite import accounted, result_of
from tests.fixtures.aws import generated, sink_options
from tests.fixtures.common import run_cli
from tests.fixtures.mosquitto import mosquitto, topic_name  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not shutil.which("mosquitto") and not shutil.which("/usr/sbin/mosquitto"),
                                reason="mosquitto is not installed")


class TestMqttConforms(SinkConformance):
    sink = "mqtt"

    @pytest.fixture
    def target(self, topic_name) -> Target:
        password = secrets.token_hex(12)
        with Mosquitto(users={"logstorm": password}).start() as broker:
            yield Target(flags=("--port", str(broker.port), "--topic", topic_name, "--username", "logstorm"),
                         env={"MQTT_PASSWORD": password}, server=lambda run_pid: broker.pid, secret=password)

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--port", str(free_port()))


def _run(tmp_path, broker, *flags: str):
    done = run_cli("run", "--sink", "mqtt", "--port", str(broker.port), *flags, "--quiet", "--results", str(tmp_path))
    return done, done.stderr.decode()


@pytest.mark.slow  # the read-back runs at the broker's pace: about 5,000 lines/s on a busy machine
def test_100000_lines_reach_a_subscriber_exactly_once(tmp_path, mosquitto, topic_name):
    done, stderr = _run(tmp_path, mosquitto, "--topic", topic_name, "--verify", "--lines", "100000")
    assert done.returncode == 0, stderr
    assert f"verified: all 100,000 delivered lines reached the subscriber to {topic_name} exactly once" in stderr
    assert accounted(result_of(tmp_path))["delivered"] == 100_000


def test_qos_2_is_delivered_exactly_once(tmp_path, mosquitto, topic_name):
    done, stderr = _run(tmp_path, mosquitto, "--topic", topic_name, "--qos", "2", "--verify", "--lines", "2000")
    assert done.returncode == 0, stderr
    assert "verified: all 2,000 delivered lines" in stderr


def test_qos_0_lines_are_sent_unacknowledged_and_only_a_subscriber_says_they_arrived(tmp_path, mosquitto, topic_name):
    done, stderr = _run(tmp_path, mosquitto, "--topic", topic_name, "--qos", "0", "--verify", "--lines", "2000")
    assert done.returncode == 0, stderr
    assert "mqtt: 2,000 sent, unacknowledged, 0 failed" in stderr
    [sink] = result_of(tmp_path)["sinks"]
    assert sink["acknowledged"] is False and accounted(result_of(tmp_path))["delivered"] == 2000
    assert "QoS 0, sent, unacknowledged: verified: all 2,000 lines sent reached the subscriber" in stderr


@pytest.mark.parametrize("flags, culprit", [
    (("--topic", "logs/#"), "--topic"),
    (("--qos", "3"), "--qos"),
    (("--in-flight", "0"), "--in-flight"),
])
def test_bad_flags_are_one_line_naming_the_flag(flags, culprit):
    done = run_cli("run", "--sink", "mqtt", *flags, "--lines", "1")
    stderr = done.stderr.decode()
    assert done.returncode == 2 and culprit in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_a_wrong_password_is_one_line(topic_name):
    with Mosquitto(users={"ann": "right"}).start() as broker:
        done = run_cli("run", "--sink", "mqtt", "--port", str(broker.port), "--username", "ann", "--lines", "1",
                       env={"MQTT_PASSWORD": "wrong-one"})
    stderr = done.stderr.decode()
    assert done.returncode == 2 and "refused the connection: Not authorized" in stderr, stderr
    assert "wrong-one" not in stderr


def test_no_acknowledgement_within_the_delivery_timeout_fails_what_is_in_flight(mosquitto, topic_name):
    import sinks.mqtt as mqtt

    options = sink_options(mqtt, "--port", str(mosquitto.port), "--topic", topic_name, "--delivery-timeout", "0.5")
    sink = mqtt.create(options, 0, 1)
    sink.open()
    [batch] = generated(100)
    os.kill(mosquitto.pid, signal.SIGSTOP)
    try:
        sink.send(batch.data, batch.lines, 1.0)
        time.sleep(0.6)
        acks = sink.poll(0.1) + sink.close(1.0)
    finally:
        os.kill(mosquitto.pid, signal.SIGCONT)
    assert sum(a.failed for a in acks) == 100 and sum(a.delivered for a in acks) == 0
    assert {a.reason for a in acks} == {"in doubt: no acknowledgement within 0.5 s"}
