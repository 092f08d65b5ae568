"""The embedded Tansu broker: starts on a free loopback port, answers Kafka
metadata, stops by its PID, and never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from harness.servers.kafka import EmbeddedBroker
from harness.errors import UserError
from tests.fixtures.common import ROOT


def gone(pid: int) -> bool:
    """Dead or a zombie waiting for a reaper that is not us."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def wait_gone(pid: int, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return gone(pid)


def test_starts_answers_metadata_and_stops(kafka_broker):
    with EmbeddedBroker() as broker:
        host, port = broker.bootstrap.split(":")
        assert host == "127.0.0.1" and int(port) != int(kafka_broker.bootstrap.split(":")[1])
        assert broker.version.startswith("tansu")
        metadata = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=5)
        assert [b.port for b in metadata.brokers.values()] == [int(port)]
        pid = broker.pid
    assert wait_gone(pid)


def test_a_taken_port_is_a_user_error(kafka_broker):
    port = int(kafka_broker.bootstrap.split(":")[1])
    with pytest.raises(UserError, match=r"port \d+ is already in use"):
        EmbeddedBroker().start(port)


def test_dies_with_its_parent_even_on_kill_9():
    parent = subprocess.Popen(
        [sys.executable, "-c", "from harness.servers.kafka import EmbeddedBroker; import time\n"
                               "b = EmbeddedBroker().start(); print(b.pid, flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        pid = int(parent.stdout.readline())
        assert not gone(pid)
    finally:
        parent.kill()
        parent.wait()
    assert wait_gone(pid)


def test_broker_command_runs_until_ctrl_c():
    command = subprocess.Popen([sys.executable, "-m", "harness", "broker", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        bootstrap = command.stdout.readline().strip()
        assert bootstrap.startswith("127.0.0.1:")
        assert AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5).brokers
    finally:
        command.send_signal(signal.SIGINT)
        status = command.wait(30)
    assert status == 0
    assert "memory engine" in command.stderr.read()


def test_broker_help_warns_about_memory(cli):
    result = cli("broker", "--help")
    assert result.returncode == 0
    assert b"keeps every message in memory" in result.stdout and b"220 MB per million" in result.stdout
