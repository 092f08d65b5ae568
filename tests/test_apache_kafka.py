"""Apache Kafka, the reference broker: the session's single-node KRaft
broker answers on 127.0.0.1 in a process group of its own with a bounded
heap and topics bounded on disk; a broker of its own stops by its PID and
leaves no folder; Debian's kcat talks to it; without Java or without the
jars, one line naming what to do, exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from harness.errors import UserError
from harness.servers import apache_kafka
from tests.fixtures.common import run_cli
from tests.fixtures.kafka import apache_or_skip
from tests.test_broker import wait_gone


def test_answers_on_loopback_in_its_own_session_with_a_bounded_heap(apache_broker):
    metadata = AdminClient({"bootstrap.servers": apache_broker.bootstrap}).list_topics(timeout=10)
    [listener] = metadata.brokers.values()
    assert (listener.host, listener.port) == ("127.0.0.1", int(apache_broker.bootstrap.split(":")[1]))
    assert os.getsid(apache_broker.pid) == apache_broker.pid  # Ctrl-C at a terminal does not reach it
    command = Path(f"/proc/{apache_broker.pid}/cmdline").read_bytes().split(b"\0")
    assert b"-Xmx1g" in command and b"kafka.Kafka" in command


def test_a_new_topic_is_bounded_on_disk(apache_broker, topic):
    admin = AdminClient({"bootstrap.servers": apache_broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1)])[topic].result(30)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    config = admin.describe_configs([resource])[resource].result(30)
    assert int(config["retention.bytes"].value) == 16 << 30
    assert int(config["retention.ms"].value) == 2 * 3600 * 1000
    assert int(config["segment.bytes"].value) == 256 << 20


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (apt-get install -y kcat)")
def test_debians_kcat_produces_and_consumes(apache_broker, topic, tmp_path):
    lines = tmp_path / "lines"
    lines.write_bytes(b"".join(b"line %d\n" % n for n in range(1000)))
    bootstrap = ["-b", apache_broker.bootstrap, "-t", topic]
    subprocess.run(["kcat", "-P", *bootstrap, "-l", "-z", "lz4", str(lines)], check=True, timeout=60)
    back = subprocess.run(["kcat", "-C", *bootstrap, "-o", "beginning", "-e", "-q"], capture_output=True, timeout=60)
    assert back.stdout == lines.read_bytes()


def test_stops_by_its_pid_and_leaves_no_folder():
    broker = apache_or_skip().start()
    pid, folder = broker.pid, broker.log_path.parent
    assert folder.is_dir() and (folder / "data").is_dir()
    broker.stop()
    assert wait_gone(pid) and not folder.exists()


@pytest.mark.skipif(shutil.which("java") is None, reason="without Java, Java is what the line names")
def test_without_the_jars_one_line_says_how_to_fetch_them(tmp_path):
    done = run_cli("run", "--sink", "kafka", "--broker", "apache", "--lines", "10", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1 and b"logstorm broker --kind apache --fetch" in done.stderr, done.stderr
    assert str(tmp_path).encode() in done.stderr


def test_without_java_one_line_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no java on it
    assert "Java is not installed" in apache_kafka.missing()
    with pytest.raises(UserError, match="Java is not installed"):
        apache_kafka.ApacheKafka().start()
    done = run_cli("broker", "--kind", "apache", "--port", "0", env={"PATH": str(tmp_path)})
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"Java" in done.stderr, done.stderr


def test_fetch_needs_the_apache_kind():
    done = run_cli("broker", "--fetch")
    assert done.returncode == 2 and b"--fetch needs --kind apache" in done.stderr
