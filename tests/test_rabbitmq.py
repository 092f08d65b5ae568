"""The RabbitMQ sink against a real rabbitmq-server: the conformance suite,
exactly-once read-back, and what the broker refuses (nacks, unroutable
messages) counted failed with its reason."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import sinks.rabbitmq as rabbitmq
from harness.servers.local import free_port
from harness.servers.rabbitmq import SCRIPT
from tests.conformance import SinkConformance, Target
from tests.conformance.suite import accounted, result_of
from tests.fixtures.aws import deliver, generated, sink_options
from tests.fixtures.common import run_cli
from tests.fixtures.rabbitmq import held, own_rabbitmq, queue, rabbitmq_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not Path(SCRIPT).exists(), reason="rabbitmq-server is not installed")


class TestRabbitMQConforms(SinkConformance):
    sink = "rabbitmq"

    @pytest.fixture
    def target(self, request, rabbitmq_server, queue) -> Target:
        # Only the case that kills its server pays for one of its own (about 7 s to start).
        killing = "killed" in request.node.name
        server = request.getfixturevalue("own_rabbitmq") if killing else rabbitmq_server
        return Target(flags=("--url", server.url, "--queue", queue), server=lambda run_pid: server.pid,
                      stored=lambda: held(server.url, queue), secret=None if killing else server.password)

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--url", f"amqp://guest:guest@127.0.0.1:{free_port()}/", "--queue", "nowhere")


@pytest.mark.slow  # the read-back runs at the broker's pace: about 5,000 lines/s on a busy machine
def test_100000_lines_are_read_back_exactly_once(tmp_path, rabbitmq_server, queue):
    done = run_cli("run", "--sink", "rabbitmq", "--url", rabbitmq_server.url, "--queue", queue, "--verify",
                   "--persistent", "--lines", "100000", "--quiet", "--results", str(tmp_path))
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert f"verified: all 100,000 delivered lines are in queue {queue} exactly once" in stderr
    assert accounted(result_of(tmp_path))["delivered"] == 100_000
    assert held(rabbitmq_server.url, queue) == 100_000  # the read-back took nothing off the queue


def test_unroutable_lines_fail_with_the_broker_s_reason(tmp_path, rabbitmq_server, queue):
    done = run_cli("run", "--sink", "rabbitmq", "--url", rabbitmq_server.url, "--routing-key", queue,
                   "--lines", "500", "--quiet", "--results", str(tmp_path))
    assert done.returncode == 1, done.stderr
    sink = accounted(result_of(tmp_path))
    assert (sink["delivered"], sink["failed"]) == (0, 500)
    assert result_of(tmp_path)["totals"]["failed_by_reason"] == {"returned: 312 NO_ROUTE": 500}


def test_a_full_queue_nacks_and_the_nacked_lines_fail(rabbitmq_server, queue):
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_server.url))
    connection.channel().queue_declare(queue, durable=True, arguments={"x-max-length": 1000,
                                                                       "x-overflow": "reject-publish"})
    connection.close()
    options = sink_options(rabbitmq, "--url", rabbitmq_server.url, "--queue", queue)
    acks = deliver(rabbitmq, options, generated(5000))
    assert sum(a.delivered for a in acks) == 1000
    assert sum(a.failed for a in acks) == 4000 and {a.reason for a in acks if a.failed} == {"nacked by the broker"}


def test_the_fast_path_writes_what_pika_would(rabbitmq_server, queue):
    """One publish through our frames and one through pika's basic_publish
    arrive alike: body, persistence and the run id."""
    import pika

    options = sink_options(rabbitmq, "--url", rabbitmq_server.url, "--queue", queue, "--persistent")
    deliver(rabbitmq, options, generated(3))
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_server.url))
    try:
        channel = connection.channel()
        got = [channel.basic_get(queue, auto_ack=True) for _ in range(3)]
    finally:
        connection.close()
    assert [body for _, _, body in got] == generated(3)[0].data.splitlines()
    assert {(p.delivery_mode, p.app_id) for _, p, _ in got} == {(2, options.run_id)}


@pytest.mark.parametrize("flags, culprit", [
    (("--url", "http://x/", "--queue", "q"), "--url"),
    (("--url", "amqp://u:hunter2@127.0.0.1/", "--exchange", "logs"), "--queue or --routing-key"),
    (("--routing-key", "k", "--verify"), "--verify"),
])
def test_bad_flags_are_one_line_naming_the_flag(flags, culprit):
    done = run_cli("run", "--sink", "rabbitmq", *flags, "--lines", "1")
    stderr = done.stderr.decode()
    assert done.returncode == 2 and culprit in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert "hunter2" not in stderr


def test_a_password_in_the_url_is_hidden():
    assert rabbitmq.hidden("amqp://ann:s%40cret@host:5673/vh") == "amqp://ann:***@host:5673/vh"
    assert rabbitmq.hidden("amqp://host/") == "amqp://host/"


def test_no_confirm_within_the_delivery_timeout_fails_what_is_in_flight(rabbitmq_server, queue):
    options = sink_options(rabbitmq, "--url", rabbitmq_server.url, "--queue", queue, "--delivery-timeout", "0.5")
    rabbitmq.check(options)
    sink = rabbitmq.create(options, 0, 1)
    sink.open()
    [batch] = generated(100)
    os.kill(rabbitmq_server.pid, signal.SIGSTOP)
    try:
        sink.send(batch.data, batch.lines, 1.0)
        time.sleep(0.6)
        acks = sink.poll(0.1) + sink.close(1.0)
    finally:
        os.kill(rabbitmq_server.pid, signal.SIGCONT)
    assert sum(a.failed for a in acks) == 100 and sum(a.delivered for a in acks) == 0
    assert {a.reason for a in acks} == {"in doubt: no confirm within 0.5 s"}
