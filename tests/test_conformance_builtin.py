"""The sinks logstorm has always had run the conformance suite
(tests/conformance/): files, null, stdout, Kafka on the embedded broker the
run starts, S3 and Kinesis on the session's moto server."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.servers.kafka import free_port
from tests.conformance import SinkConformance, Target
from tests.fixtures.processes import children

SHARED_MOTO = "the moto server is shared by the whole test session; stopping it would fail other tests"


class TestNullConforms(SinkConformance):
    sink = "null"

    @pytest.fixture
    def target(self) -> Target:
        return Target(no_server="the null sink discards lines")


class TestStdoutConforms(SinkConformance):
    sink = "stdout"

    @pytest.fixture
    def target(self) -> Target:
        return Target(no_server="stdout is a pipe to the test, not a server")


class TestFileConforms(SinkConformance):
    sink = "file"

    @pytest.fixture
    def target(self, tmp_path: Path) -> Target:
        out = tmp_path / "out"
        return Target(flags=("--path", str(out)), stored=lambda: sum(p.read_bytes().count(b"\n") for p in out.iterdir()),
                      no_server="files are written by the sink itself (a full disk: tests/test_full_disk.py)")

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--path", "/proc/logstorm-cannot-write-here")


def embedded_broker(run_pid: int) -> int:
    return next(pid for pid, name in children(run_pid).items() if name.startswith("tansu"))


class TestKafkaConforms(SinkConformance):
    sink = "kafka"

    @pytest.fixture
    def target(self, topic: str) -> Target:
        # The run's own embedded broker (each run starts one), so killing it harms no other test.
        return Target(flags=("--topic", topic, "--delivery-timeout", "3"), server=embedded_broker,
                      env={"SASL_USERNAME": "logstorm", "SASL_PASSWORD": "kafka-conformance-secret"},
                      secret="kafka-conformance-secret")

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--broker", f"127.0.0.1:{free_port()}")


class TestS3Conforms(SinkConformance):
    sink = "s3"

    @pytest.fixture
    def target(self, moto_server, s3_bucket: str) -> Target:
        client = moto_server.client("s3")

        def stored() -> int:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
            return sum(client.get_object(Bucket=s3_bucket, Key=key)["Body"].read().count(b"\n") for key in keys)

        return Target(flags=("--bucket", s3_bucket, "--endpoint-url", moto_server.url), env=moto_server.env,
                      stored=stored, secret=moto_server.env["AWS_SECRET_ACCESS_KEY"], no_server=SHARED_MOTO)

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--bucket", "logstorm-nowhere", "--endpoint-url", f"http://127.0.0.1:{free_port()}")


class TestKinesisConforms(SinkConformance):
    sink = "kinesis"

    @pytest.fixture
    def target(self, moto_server, kinesis_stream) -> Target:
        # moto's Kinesis takes a few thousand records a second.
        return Target(flags=("--stream", kinesis_stream(1), "--endpoint-url", moto_server.url), env=moto_server.env,
                      secret=moto_server.env["AWS_SECRET_ACCESS_KEY"], no_server=SHARED_MOTO, lines=2_000, rate=500)

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        return ("--stream", "logstorm-nowhere", "--endpoint-url", f"http://127.0.0.1:{free_port()}")
