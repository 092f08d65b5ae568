"""The Kinesis sink against a real (moto) Kinesis server, driven like a
producer drives it. moto manages about 1,000 records/s, so volumes stay small."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from harness.errors import UserError
from sinks import kinesis
from harness import aws
from tests.fixtures.aws import deliver, generated, sink_options
from tests.fixtures.common import run_cli

CHECK_BOUND = 10.0  # seconds: the acceptance bound for a failing start-up check, far above the usual 0.1 s
THROTTLED = "ProvisionedThroughputExceededException"


def read_back(client: Any, stream: str) -> dict[str, list[bytes]]:
    """Every record on every shard, from the start: {shard id: [data, ...]}."""
    shards = {}
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records: list[bytes] = []
        while True:
            reply = client.get_records(ShardIterator=iterator, Limit=10_000)
            if not reply["Records"]:
                break
            records += [record["Data"] for record in reply["Records"]]
            iterator = reply["NextShardIterator"]
        shards[shard["ShardId"]] = records
    return shards


def lines_of(batches) -> list[bytes]:
    return [line for batch in batches for line in batch.data.split(b"\n")[:-1]]


def test_20000_lines_arrive_exactly_once_spread_over_all_4_shards(aws_env, kinesis_stream):
    stream = kinesis_stream(4)
    batches = generated(20_000)
    options = sink_options(kinesis, "--stream", stream, "--endpoint-url", aws_env.url)
    acks = deliver(kinesis, options, batches)

    assert sum(ack.delivered for ack in acks) == 20_000 and sum(ack.failed for ack in acks) == 0
    shards = read_back(aws_env.client("kinesis"), stream)
    assert Counter(record for records in shards.values() for record in records) == Counter(lines_of(batches))
    assert len(shards) == 4 and all(len(records) > 20_000 / 4 * 0.8 for records in shards.values())


def test_keying_by_a_field_keeps_each_value_on_one_shard(aws_env, kinesis_stream):
    stream = kinesis_stream(4)
    options = sink_options(kinesis, "--stream", stream, "--key", "ip", "--endpoint-url", aws_env.url)
    acks = deliver(kinesis, options, generated(2_000))

    assert sum(ack.delivered for ack in acks) == 2_000
    shards_of: dict[bytes, set[str]] = {}
    for shard, records in read_back(aws_env.client("kinesis"), stream).items():
        for record in records:
            shards_of.setdefault(record.split()[0], set()).add(shard)
    assert all(len(shards) == 1 for shards in shards_of.values())
    assert len(set().union(*shards_of.values())) > 1


class Rejecting:
    """The real client talking to the real server, except that put_records
    rejects the chosen records (without sending them) the way a throttled
    shard does: `flaky` ones on their first `times` tries, `refused` always."""

    def __init__(self, client: Any, flaky: set[bytes], refused: set[bytes], times: int) -> None:
        self.client = client
        self.flaky, self.refused, self.times = flaky, refused, times
        self.tries: Counter[bytes] = Counter()

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        self.tries.update(record["Data"] for record in Records)
        reject = [record["Data"] in self.refused or (record["Data"] in self.flaky and self.tries[record["Data"]] <= self.times)
                  for record in Records]
        passed = [record for record, no in zip(Records, reject) if not no]
        results = iter(self.client.put_records(StreamName=StreamName, Records=passed)["Records"] if passed else [])
        return {"FailedRecordCount": sum(reject),
                "Records": [{"ErrorCode": THROTTLED, "ErrorMessage": "Rate exceeded for shard"} if no else next(results)
                            for no in reject]}


def test_rejected_records_are_retried_then_counted_failed_with_their_code(aws_env, kinesis_stream):
    stream = kinesis_stream(2)
    batches = generated(2_000)
    lines = lines_of(batches)
    flaky, refused = set(lines[0:600:10]), set(lines[1000:1010])  # flaky ones fall in two different calls
    options = sink_options(kinesis, "--stream", stream, "--max-retries", "3", "--endpoint-url", aws_env.url)
    sink = kinesis.create(options, 0, 1)
    sink.client = Rejecting(aws_env.client("kinesis"), flaky, refused, times=2)
    sink.open()
    for i, batch in enumerate(batches):
        sink.send(batch.data, batch.lines, float(i))
    acks = sink.poll() + sink.close(10.0)

    assert all(sink.client.tries[line] == 3 for line in flaky)  # rejected twice, then delivered
    assert all(sink.client.tries[line] == 4 for line in refused)  # the first try and 3 retries
    failed = [ack for ack in acks if ack.failed]
    assert [(ack.failed, ack.reason) for ack in failed] == [(10, THROTTLED)]
    assert sum(ack.delivered for ack in acks) == 1_990
    assert sum(ack.delivered + ack.failed for ack in acks) == 2_000
    delivered = [record for records in read_back(aws_env.client("kinesis"), stream).values() for record in records]
    assert Counter(delivered) == Counter(line for line in lines if line not in refused)


def test_oversized_lines_fail_unsent_and_big_ones_split_calls(aws_env, kinesis_stream):
    stream = kinesis_stream(1)
    big = [b"%02d" % n + b"x" * 999_000 for n in range(12)]  # 12 MB: three calls at the 5 MiB limit
    too_big = b"y" * (1 << 20)  # with its partition key, over 1 MiB
    data = b"\n".join(big[:6] + [too_big] + big[6:]) + b"\n"
    options = sink_options(kinesis, "--stream", stream, "--endpoint-url", aws_env.url)
    kinesis.check(options)
    sink = kinesis.create(options, 0, 1)
    sink.open()
    sink.send(data, 13, 5.0)
    acks = sink.close(10.0)

    assert sorted((ack.delivered, ack.failed, ack.reason, ack.intended) for ack in acks) == [
        (0, 1, "RecordTooLarge", 5.0), (12, 0, "", 5.0)]
    assert read_back(aws_env.client("kinesis"), stream) == {"shardId-000000000000": big}


def test_a_stream_deleted_mid_run_fails_its_records_without_retrying(aws_env, kinesis_stream):
    stream = kinesis_stream(1)
    options = sink_options(kinesis, "--stream", stream, "--max-retries", "100", "--endpoint-url", aws_env.url)
    kinesis.check(options)
    sink = kinesis.create(options, 0, 1)
    sink.open()
    aws_env.client("kinesis").delete_stream(StreamName=stream)
    batches = generated(1_000)
    sink.send(batches[0].data, batches[0].lines, 0.0)
    assert [(ack.delivered, ack.failed, ack.reason) for ack in sink.close(10.0)] == [
        (0, 1_000, "ResourceNotFoundException")]


def test_a_missing_stream_fails_the_check_in_one_line(aws_env):
    options = sink_options(kinesis, "--stream", "no-such-stream", "--endpoint-url", aws_env.url)
    started = time.monotonic()
    with pytest.raises(UserError) as error:
        kinesis.check(options)
    assert time.monotonic() - started < CHECK_BOUND
    assert str(error.value) == "Kinesis stream 'no-such-stream' does not exist"


def test_no_region_fails_the_check_in_one_line(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    options = sink_options(kinesis, "--stream", "s", "--endpoint-url", aws_env.url)
    started = time.monotonic()
    with pytest.raises(UserError) as error:
        kinesis.check(options)
    assert time.monotonic() - started < CHECK_BOUND
    assert str(error.value).startswith("no AWS region: pass --region or set AWS_REGION")


def test_region_flag_is_enough(aws_env, kinesis_stream, monkeypatch):
    stream = kinesis_stream(1)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    kinesis.check(sink_options(kinesis, "--stream", stream, "--region", "us-east-1", "--endpoint-url", aws_env.url))


@pytest.mark.parametrize("key, field", [("random", 0), ("ip", 1), ("field:7", 7)])
def test_key_flag(key, field):
    assert sink_options(kinesis, "--stream", "s", "--key", key).key_field == field


@pytest.mark.parametrize("argv", [["--stream", "s", "--key", "field:0"], ["--stream", "s", "--key", "host"],
                                  ["--stream", "s", "--max-retries", "-1"], ["--key", "ip"]])
def test_bad_flags_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        sink_options(kinesis, *argv)
    assert exit.value.code == 2


def test_stream_kinesis_delivers_each_line_once(aws_env, kinesis_stream, tmp_path):
    stream = kinesis_stream(4)
    batches = generated(5_000)
    (tmp_path / "in.log").write_bytes(b"".join(batch.data for batch in batches))
    # One producer: moto's Shard.put_record is not safe under concurrent calls (two
    # producers' records get one sequence number and one overwrites the other), so
    # exactly-once can only be checked against it from a single producer.
    done = run_cli("stream", "kinesis", "--stream", stream, "--endpoint-url", aws_env.url, "-q",
                   str(tmp_path / "in.log"))
    assert done.returncode == 0, done.stderr.decode()
    assert "kinesis: 5,000 delivered, 0 failed" in done.stderr.decode()
    delivered = [record for records in read_back(aws_env.client("kinesis"), stream).values() for record in records]
    assert Counter(delivered) == Counter(lines_of(batches))


@pytest.mark.parametrize("argv, unset, message", [
    (["--stream", "no-such-stream"], None, "Kinesis stream 'no-such-stream' does not exist"),
    (["--stream", "s"], "AWS_DEFAULT_REGION", aws.NO_REGION),
])
def test_stream_kinesis_refuses_a_bad_target_in_one_line(aws_env, monkeypatch, argv, unset, message):
    if unset:
        monkeypatch.delenv(unset)
    done = run_cli("stream", "kinesis", *argv, "--endpoint-url", aws_env.url, "/dev/null", timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode() == f"stream: error: {message}\n"
