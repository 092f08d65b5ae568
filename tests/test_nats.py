"""The NATS JetStream sink against a real nats-server -js: the conformance
suite, 100,000 lines verified exactly once, the stream created or refused,
error acks, and the bad inputs it names."""

from __future__ import annotations

import pytest

from harness.servers.kafka import free_port
from sinks import nats as nats_sink
from tests.conformance import SinkConformance, Target
from tests.fixtures.aws import deliver, generated, sink_options
from tests.fixtures.common import run_cli
from tests.fixtures.nats import nats_server, shared_nats, stored, unique_names  # noqa: F401 (fixtures)


class TestNatsConforms(SinkConformance):
    sink = "nats"

    @pytest.fixture
    def target(self, nats_server, request) -> Target:
        subject, stream = unique_names(request)
        # JetStream on file storage takes some 10,000-20,000 acknowledged messages a second here.
        return Target(flags=("--servers", nats_server.url, "--subject", subject, "--stream", stream),
                      env={"NATS_USER": nats_server.user, "NATS_PASSWORD": nats_server.password},
                      server=lambda run_pid: nats_server.pid, stored=lambda: stored(nats_server, stream),
                      secret=nats_server.password, rate=5_000)

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--servers", f"nats://logstorm:nats-conformance-secret@127.0.0.1:{free_port()}")


def test_100_000_lines_verify_exactly_once(shared_nats, request):
    subject, stream = unique_names(request)
    done = run_cli("run", "--sink", "nats", "--servers", shared_nats.url, "--subject", subject, "--stream", stream,
                   "--lines", "100000", "--verify", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert f"verified: all 100,000 delivered lines are in stream {stream} exactly once" in stderr
    assert stored(shared_nats, stream) == 100_000


def test_a_missing_stream_is_created_for_the_subject(shared_nats, request):
    subject, stream = unique_names(request)
    acks = deliver(nats_sink, sink_options(nats_sink, "--servers", shared_nats.url, "--subject", subject,
                                           "--stream", stream, "--window", "100"), generated(3000))
    assert sum(a.delivered for a in acks) == 3000 and not sum(a.failed for a in acks)
    assert stored(shared_nats, stream) == 3000


def test_a_full_stream_fails_the_refused_lines_with_the_servers_reason(shared_nats, request):
    import asyncio

    import nats

    subject, stream = unique_names(request)

    async def make() -> None:
        nc = await nats.connect(shared_nats.url)
        await nc.jetstream().add_stream(name=stream, subjects=[subject], max_msgs=100, discard="new")
        await nc.close()

    asyncio.run(make())
    acks = deliver(nats_sink, sink_options(nats_sink, "--servers", shared_nats.url, "--subject", subject,
                                           "--stream", stream), generated(1000))
    assert sum(a.delivered for a in acks) == 100 and sum(a.failed for a in acks) == 900
    assert {a.reason for a in acks if a.failed} == {"maximum messages exceeded (10077)"}


def test_a_subject_of_another_stream_is_refused_before_the_run(shared_nats, request):
    subject, stream = unique_names(request)
    first = run_cli("run", "--sink", "nats", "--servers", shared_nats.url, "--subject", subject, "--stream", stream,
                    "--lines", "10", "--quiet")
    assert first.returncode == 0, first.stderr
    done = run_cli("run", "--sink", "nats", "--servers", shared_nats.url, "--subject", subject, "--stream", "OTHER",
                   "--lines", "10", "--quiet")
    assert done.returncode == 2 and f"belongs to JetStream stream {stream!r}" in done.stderr.decode()


@pytest.mark.parametrize("flags, expected", [
    (("--servers", "http://127.0.0.1:4222"), "is not nats://HOST:PORT"),
    (("--servers", "nats://127.0.0.1:99999"), "has a bad port"),
    (("--subject", "logs.*"), "--subject 'logs.*' is not a subject"),
    (("--stream", "a.b"), "--stream 'a.b' is not a stream name"),
    (("--creds", "/nonexistent.creds"), "--creds: no such file"),
    (("--window", "0"), "--window: 0 must be between 1 and"),
])
def test_bad_flags_are_one_line_naming_the_culprit(flags, expected):
    done = run_cli("run", "--sink", "nats", *flags, "--lines", "1", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 2 and expected in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_a_wrong_password_is_named_and_never_printed(nats_server):
    done = run_cli("run", "--sink", "nats", "--servers", nats_server.url.replace("nats://", "nats://logstorm:wrong-pw@"),
                   "--lines", "1", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 2 and "Authorization Violation" in stderr and "wrong-pw" not in stderr, stderr


def test_the_shipped_profile_runs_against_a_server_and_verifies(shared_nats, tmp_path):
    done = run_cli("run", "nats", "--set", f"sinks.0.servers={shared_nats.url}", "--set", "load.lines=5000",
                   "--results", str(tmp_path), "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 0 and "verified: all 5,000 delivered lines are in stream LOGSTORM_DEMO" in stderr, stderr


def test_e2e_subscribes_while_the_run_publishes(shared_nats, request):
    subject, stream = unique_names(request)
    done = run_cli("run", "--sink", "nats", "--servers", shared_nats.url, "--subject", subject, "--stream", stream,
                   "--rate", "5000", "--lines", "5000", "--e2e", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 0 and "nats end to end: " in stderr and "lines read back; latency p50" in stderr, stderr


def test_a_token_from_the_environment_logs_in_and_is_never_printed(tmp_path):
    from harness.servers.nats import NatsServer

    with NatsServer(token="nats-token-secret") as server:
        good = run_cli("run", "--sink", "nats", "--servers", server.url, "--lines", "100", "--quiet",
                       "--results", str(tmp_path), env={"NATS_TOKEN": "nats-token-secret"})
        bad = run_cli("run", "--sink", "nats", "--servers", server.url, "--lines", "100", "--quiet",
                      env={"NATS_TOKEN": "not-the-token"})
    assert good.returncode == 0, good.stderr
    assert bad.returncode == 2 and "Authorization Violation" in bad.stderr.decode()
    outputs = [good.stderr, good.stdout, bad.stderr, *(p.read_bytes() for p in tmp_path.rglob("*.json"))]
    assert not [out for out in outputs if b"nats-token-secret" in out or b"not-the-token" in out]
