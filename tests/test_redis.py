"""The Redis Streams sink against a real redis-server: the conformance
suite, 100,000 lines verified exactly once, trimming, refusals by reply
type, and the bad inputs it names."""

from __future__ import annotations

import pytest

from harness.servers.kafka import free_port
from sinks import redis as redis_sink
from tests.conformance import SinkConformance, Target
from tests.fixtures.aws import deliver, generated, sink_options
from tests.fixtures.common import run_cli
from tests.fixtures.redis import redis_server, shared_redis, stored, unique_key  # noqa: F401 (fixtures)


class TestRedisConforms(SinkConformance):
    sink = "redis"

    @pytest.fixture
    def target(self, redis_server, request) -> Target:
        key = unique_key(request)
        return Target(flags=("--url", redis_server.url, "--stream", key),
                      env={"REDIS_PASSWORD": redis_server.password}, server=lambda run_pid: redis_server.pid,
                      stored=lambda: stored(redis_server, key), secret=redis_server.password)

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--url", f"redis://:redis-conformance-secret@127.0.0.1:{free_port()}")


def test_100_000_lines_verify_exactly_once(shared_redis, request):
    key = unique_key(request)
    done = run_cli("run", "--sink", "redis", "--url", shared_redis.url, "--stream", key, "--lines", "100000",
                   "--verify", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "verified: all 100,000 delivered lines are in stream " + key + " exactly once" in stderr
    assert stored(shared_redis, key) == 100_000


def test_each_line_is_one_entry_with_the_line_in_one_field(shared_redis, request):
    import redis

    key = unique_key(request)
    batches = generated(2500)
    acks = deliver(redis_sink, sink_options(redis_sink, "--url", shared_redis.url, "--stream", key), batches)
    assert sum(a.delivered for a in acks) == 2500 and not sum(a.failed for a in acks)
    entries = redis.Redis(port=shared_redis.port).xrange(key)
    assert [fields for _, fields in entries] == [{b"line": line} for b in batches for line in b.data.splitlines()]


def test_maxlen_trims_the_stream(shared_redis, request):
    key = unique_key(request)
    acks = deliver(redis_sink, sink_options(redis_sink, "--url", shared_redis.url, "--stream", key,
                                            "--maxlen", "1000"), generated(5000))
    assert sum(a.delivered for a in acks) == 5000
    assert stored(shared_redis, key) == 1000


def test_error_replies_fail_their_lines_with_the_error(shared_redis, request):
    """A stream whose last ID is the largest possible refuses every new entry."""
    import redis

    key = unique_key(request)
    client = redis.Redis(port=shared_redis.port)
    client.xadd(key, {"line": "first"}, id="18446744073709551615-18446744073709551615")
    options = sink_options(redis_sink, "--url", shared_redis.url, "--stream", key)
    sink = redis_sink.create(options, 0, 1)
    sink.open()
    sink.send(b"a\nb\nc\n", 3, 1.0)
    acks = sink.poll() + sink.close(5)
    assert sum(a.delivered for a in acks) == 0 and sum(a.failed for a in acks) == 3
    [reason] = {a.reason for a in acks if a.failed}
    assert reason.startswith("ERR The stream has exhausted the last possible ID")
    # The connection stays in step: a good line after the refused ones is delivered.
    client.delete(key)
    sink.send(b"d\n", 1, 2.0)
    assert [(a.delivered, a.failed) for a in sink.close(5)] == [(1, 0)]


@pytest.mark.parametrize("flags, expected", [
    (("--url", "http://127.0.0.1:6379"), "--url must start with redis://"),
    (("--url", "redis://127.0.0.1:99999"), "--url has a bad port"),
    (("--url", "redis://127.0.0.1:6379/x"), "database 'x'"),
    (("--maxlen", "~0"), "--maxlen: '~0' is not ~N or N"),
    (("--timeout", "0"), "--timeout: 0 must be greater than 0"),
])
def test_bad_flags_are_one_line_naming_the_culprit(flags, expected):
    done = run_cli("run", "--sink", "redis", *flags, "--lines", "1", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 2 and expected in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_a_key_that_is_not_a_stream_is_refused_before_the_run(shared_redis, request):
    import redis

    key = unique_key(request)
    redis.Redis(port=shared_redis.port).set(key, "a string")
    done = run_cli("run", "--sink", "redis", "--url", shared_redis.url, "--stream", key, "--lines", "1", "--quiet")
    assert done.returncode == 2 and f"key {key!r} holds a string, not a stream" in done.stderr.decode()


def test_a_missing_or_wrong_password_is_named_and_never_printed(redis_server):
    for url in (redis_server.url, redis_server.url.replace("redis://", "redis://:wrong-password@")):
        done = run_cli("run", "--sink", "redis", "--url", url, "--lines", "1", "--quiet")
        stderr = done.stderr.decode()
        assert done.returncode == 2 and "refused to log in" in stderr and "wrong-password" not in stderr, stderr


def test_the_shipped_profile_runs_against_a_server_and_verifies(shared_redis, tmp_path):
    done = run_cli("run", "redis", "--set", f"sinks.0.url={shared_redis.url}", "--set", "load.lines=5000",
                   "--results", str(tmp_path), "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 0 and "verified: all 5,000 delivered lines are in stream logstorm-demo" in stderr, stderr


def test_e2e_reads_the_stream_while_the_run_writes(shared_redis, request):
    done = run_cli("run", "--sink", "redis", "--url", shared_redis.url, "--stream", unique_key(request),
                   "--rate", "5000", "--lines", "5000", "--e2e", "--quiet")
    stderr = done.stderr.decode()
    assert done.returncode == 0 and "redis end to end: " in stderr and "lines read back; latency p50" in stderr, stderr
