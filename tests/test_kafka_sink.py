"""The Kafka sink against a real embedded Tansu broker, driven through the
sink contract (options, check, create, send, poll, close) and read back
with a real consumer."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack

import pytest
from confluent_kafka import Producer

from generators.factory import LineFactory, LineSpec
from harness.servers.kafka import EmbeddedBroker
from harness.errors import UserError
from sinks import kafka, kafka_options
from sinks.kafka_log import Captured
from sinks.kafka_verify import e2e_consumer, partition_counts, read_topic, verify
from tests.fixtures.common import ROOT
from tests.fixtures.kafka import apache_or_skip

SECRET = "pa55-w0rd-never-shown"


def make(*args: str) -> kafka.Options:
    parser = argparse.ArgumentParser()
    kafka.add_arguments(parser)
    return kafka.options(parser.parse_args(list(args)))


def batches(count: int, seed: int = 7):
    """Generated apache batches totalling `count` lines."""
    factory = LineFactory(LineSpec(seed=seed))
    index = 0
    while count > 0:
        batch = factory.render(index, min(count, factory.spec.batch_lines))
        yield batch
        count -= batch.lines
        index += 1


def deliver(options: kafka.Options, lines: int, close_timeout: float = 30.0):
    """Run the sink the way a producer process does; returns (sink, acks, lines sent)."""
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    acks, sent = [], 0
    for batch in batches(lines):
        sink.send(batch.data, batch.lines, time.time())
        sent += batch.lines
        acks += sink.poll(0)
    acks += sink.close(close_timeout)
    return sink, acks, sent


def totals(acks) -> tuple[int, int, Counter]:
    reasons = Counter()
    for ack in acks:
        if ack.failed:
            reasons[ack.reason] += ack.failed
    return sum(a.delivered for a in acks), sum(a.failed for a in acks), reasons


def test_100k_lines_arrive_exactly_once(broker, topic):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--verify")
    sink, acks, sent = deliver(options, 100_000)
    assert totals(acks) == (100_000, 0, Counter())
    count, digest = sink.fingerprint()
    assert count == 100_000
    result = verify(options, count, digest, timeout=10)
    assert result.ok, result.message
    assert "exactly once" in result.message


def test_verify_names_missing_and_duplicated_lines(broker, topic):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--verify")
    sink, _, _ = deliver(options, 1000)
    count, digest = sink.fingerprint()
    missing = verify(options, count + 5, digest, timeout=1)
    assert not missing.ok and "5 missing" in missing.message
    extra = verify(options, count - 3, digest, timeout=1)
    assert not extra.ok and "3 duplicated" in extra.message


def test_messages_are_lines_without_newline_stamped_with_intended_time(broker, topic):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--e2e")
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    batch = next(batches(100))
    sink.send(batch.data, batch.lines, 1_700_000_000.25)
    acks = sink.close(30)
    assert [(a.intended, a.delivered) for a in acks] == [(1_700_000_000.25, 100)]
    messages = read_topic(options, idle=1)
    assert sorted(value for _, _, value, _ in messages) == sorted(batch.data.splitlines())
    assert {stamp for *_, stamp in messages} == {1_700_000_000_250}


@pytest.mark.parametrize("flags", [("-e", "compression.type=lz4"), ("-e", "compression.type=zstd"),
                                   ("--compression", "zstd"), ("--compression", "gzip"), ("--compression", "snappy"),
                                   ("--compression", "none"),
                                   ("-e", "delivery.report.only.error=false")])  # every success reported too
def test_compressed_runs_verify(broker, topic, flags):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--verify", *flags)
    sink, acks, sent = deliver(options, 20_000)
    assert totals(acks)[:2] == (sent, 0)
    result = verify(options, *sink.fingerprint(), timeout=10)
    assert result.ok, result.message


@pytest.mark.parametrize("key", ["none", "ip"])  # a batch at once (sinks/kafka_batch.py), a line at a time
def test_a_full_local_queue_waits_and_drops_nothing(broker, topic, key):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--verify",
                   "-e", "queue.buffering.max.messages=500", "--key", key)
    sink, acks, sent = deliver(options, 20_000)
    assert totals(acks)[:2] == (sent, 0)
    assert verify(options, *sink.fingerprint(), timeout=10).ok


def test_a_full_local_queue_keeps_each_partitions_lines_in_order(broker, topic):
    options = make("--broker", broker.bootstrap, "--topic", topic, "-e", "queue.buffering.max.messages=700")
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    for start in range(0, 30_000, 3_000):  # batches far larger than the queue's room
        sink.send(b"".join(b"%06d\n" % n for n in range(start, start + 3_000)), 3_000, time.time())
    assert totals(sink.close(30))[:2] == (30_000, 0)
    by_partition = defaultdict(list)
    for partition, _, value, _ in read_topic(options, idle=1):
        by_partition[partition].append(int(value))
    assert sorted(n for numbers in by_partition.values() for n in numbers) == list(range(30_000))
    assert all(numbers == sorted(numbers) for numbers in by_partition.values())


@pytest.mark.parametrize("create", [True, False])  # a topic made by --partitions, or by the broker on first use
def test_keyless_batches_take_the_partitions_in_turn(broker, topic, create):
    options = make("--broker", broker.bootstrap, "--topic", topic, *(["--partitions", "3"] if create else []))
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    for start in range(0, 6_000, 1_000):
        sink.send(b"".join(b"%06d\n" % n for n in range(start, start + 1_000)), 1_000, time.time())
    assert totals(sink.close(30))[:2] == (6_000, 0)
    batches_of = defaultdict(set)
    for partition, _, value, _ in read_topic(options, idle=1):
        batches_of[partition].add(int(value) // 1_000)
    assert sum(len(batches) for batches in batches_of.values()) == 6  # each batch whole in one partition
    partitions = len(Producer({"bootstrap.servers": broker.bootstrap}).list_topics(topic, 10).topics[topic].partitions)
    assert partitions == 3 or not create
    assert sorted(len(batches) for batches in batches_of.values()) == sorted(6 // partitions + (i < 6 % partitions)
                                                                           for i in range(partitions))


def test_a_line_the_producer_refuses_is_counted_as_failed(kafka_broker, topic):
    options = make("--broker", kafka_broker.bootstrap, "--topic", topic, "--verify", "-e", "message.max.bytes=1000")
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    sink.send(b"short\n" + b"x" * 2000 + b"\nalso short\n", 3, 12.5)
    delivered, failed, reasons = totals(sink.close(30))
    assert (delivered, failed, reasons) == (2, 1, Counter({"MSG_SIZE_TOO_LARGE": 1}))
    assert verify(options, *sink.fingerprint(), timeout=5).ok


def test_key_ip_keeps_each_client_on_one_partition(broker, topic):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--partitions", "3", "--key", "ip")
    _, acks, sent = deliver(options, 20_000)
    assert totals(acks)[:2] == (sent, 0)
    partitions_of = defaultdict(set)
    for partition, key, value, _ in read_topic(options):
        assert value.startswith(key + b" ")  # apache lines start with the client IP
        partitions_of[key].add(partition)
    assert len(partitions_of) > 10
    assert all(len(p) == 1 for p in partitions_of.values())
    counts = partition_counts(options)
    assert sorted(counts) == [0, 1, 2] and sum(counts.values()) == sent


def test_partitions_on_an_existing_topic_says_so(broker, topic, capfd):
    kafka.check(make("--broker", broker.bootstrap, "--topic", topic, "--partitions", "2"))
    kafka.check(make("--broker", broker.bootstrap, "--topic", topic, "--partitions", "4"))
    assert f"topic {topic} already exists with 2 partition(s)" in capfd.readouterr().err


def test_key_functions():
    line = b'10.1.2.3 - - [01/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8"'
    assert kafka.key_function("none", 0) is None
    assert kafka.key_function("ip", 0)(line) == b"10.1.2.3"
    assert kafka.key_function("ip", 0)(b"no address here 1.2.3") is None
    assert kafka.key_function("field:7", 0)(line) == b"/a"
    assert kafka.key_function("field:99", 0)(line) is None
    random_key = kafka.key_function("random", 0)
    assert len({random_key(line) for _ in range(100)}) == 100
    with pytest.raises(UserError, match="--key 'field:0'"):
        make("--key", "field:0")


def test_config_splits_at_the_first_equals_and_overrides_defaults():
    assert kafka_options.split_setting("sasl.jaas.config=a=b") == ("sasl.jaas.config", "a=b")
    options = make("--broker", "h:1", "-e", "linger.ms=1", "-e", "sasl.jaas.config=x=y=z", "--acks", "1",
                   "--compression", "lz4", "--delivery-timeout", "2.5")
    config = kafka.producer_config(options)
    assert config["linger.ms"] == "1"
    assert config["sasl.jaas.config"] == "x=y=z"
    assert (config["acks"], config["compression.type"], config["message.timeout.ms"]) == ("1", "lz4", "2500")
    assert config["bootstrap.servers"] == "h:1"
    with pytest.raises(UserError, match="expected KEY=VALUE"):
        make("-e", "linger.ms")


def test_brokers_repeat_and_comma_lists():
    assert make("--broker", "a:1,b:2", "--broker", "c:3").bootstrap == "a:1,b:2,c:3"
    options = make()
    assert kafka.needs_embedded(options)
    pointed = kafka.with_bootstrap(options, "127.0.0.1:5555")
    assert not kafka.needs_embedded(pointed) and kafka.producer_config(pointed)["bootstrap.servers"] == "127.0.0.1:5555"
    with pytest.raises(UserError, match="embedded"):
        make("--broker", "embedded,a:1")


def test_sasl_flags_and_environment_reach_the_producer(monkeypatch):
    config = kafka.producer_config(make("--broker", "h:1", "--sasl-username", "ann", "--sasl-password", SECRET))
    assert (config["sasl.username"], config["sasl.password"]) == ("ann", SECRET)
    assert (config["security.protocol"], config["sasl.mechanism"]) == ("SASL_SSL", "PLAIN")
    monkeypatch.setenv("SASL_USERNAME", "bob")
    monkeypatch.setenv("SASL_PASSWORD", SECRET)
    options = make("--broker", "h:1", "-e", "security.protocol=SASL_PLAINTEXT", "-e", "sasl.mechanism=SCRAM-SHA-256")
    config = kafka.producer_config(options)
    assert (config["sasl.username"], config["sasl.password"]) == ("bob", SECRET)
    assert (config["security.protocol"], config["sasl.mechanism"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-256")
    assert SECRET not in repr(options) and SECRET not in str(options)
    # The embedded broker has no authentication: credentials in the shell must not break the default run.
    assert "sasl.username" not in kafka.producer_config(kafka.with_bootstrap(make(), "127.0.0.1:5555"))


def test_sasl_password_never_shown_when_the_connection_fails(kafka_broker, topic, monkeypatch, capfd):
    monkeypatch.setenv("SASL_PASSWORD", SECRET)
    options = make("--broker", kafka_broker.bootstrap, "--topic", topic, "--sasl-username", "ann",
                   "-e", "security.protocol=SASL_PLAINTEXT", "-e", "debug=security,broker")
    with pytest.raises(UserError) as caught:
        kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    sink.send(b"one line\n", 1, time.time())
    sink.close(1)
    out = capfd.readouterr()
    assert SECRET not in str(caught.value) and SECRET not in out.out + out.err
    assert "SASL" in str(caught.value) and "SASL" in out.err  # the logs did talk about authentication


def test_the_check_keeps_the_cause_not_the_all_brokers_down_that_follows_it():
    errors = Captured()
    errors.logger.error("%s [%s] %s", "AUTHENTICATION", "", "SASL authentication error: Unsupported SASL mechanism")
    errors.logger.error("%s [%s] %s", "ALL_BROKERS_DOWN", "", "1/1 brokers are down")
    assert errors.last == "SASL authentication error: Unsupported SASL mechanism"
    alone = Captured()
    alone.logger.error("%s [%s] %s", "ALL_BROKERS_DOWN", "", "1/1 brokers are down")
    assert alone.last == "1/1 brokers are down"


def test_unreachable_broker_fails_fast_with_one_line(capfd):
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        kafka.check(make("--broker", "127.0.0.1:1", "--topic", "t"))
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert message.startswith("cannot reach Kafka at 127.0.0.1:1: ") and "\n" not in message
    assert capfd.readouterr().err == ""  # librdkafka's connection errors are folded into that line


def test_bad_setting_is_a_user_error(kafka_broker):
    with pytest.raises(UserError, match="bad Kafka setting: .*no.such.setting"):
        kafka.check(make("--broker", kafka_broker.bootstrap, "-e", "no.such.setting=1"))


def test_killed_broker_every_line_is_accounted_for(fresh_broker, topic, capfd):
    options = make("--broker", fresh_broker.bootstrap, "--topic", topic, "--delivery-timeout", "2", "--verify")
    kafka.check(options)
    sink = kafka.create(options, 0, 1)
    sink.open()
    acks, sent = [], 0
    for number, batch in enumerate(batches(40_000)):
        if number == 4:
            fresh_broker.process.kill()
            fresh_broker.process.wait()
        sink.send(batch.data, batch.lines, time.time())
        sent += batch.lines
        acks += sink.poll(0)
    started = time.monotonic()
    acks += sink.close(10)
    assert time.monotonic() - started < 10 + 1  # close() is bounded by its own timeout
    delivered, failed, reasons = totals(acks)
    assert delivered + failed == sent
    assert failed > 0 and set(reasons) <= {"MSG_TIMED_OUT", "FLUSH_TIMED_OUT"}
    assert sink.fingerprint()[0] == delivered
    out = capfd.readouterr()
    assert out.out == ""
    assert all(line.startswith("kafka: ") for line in out.err.splitlines())
    assert len(out.err.splitlines()) == len(set(out.err.splitlines()))  # reconnect errors are not repeated


def test_close_gives_up_at_its_timeout_and_counts_the_rest_as_failed(topic):
    with EmbeddedBroker() as broker:
        options = make("--broker", broker.bootstrap, "--topic", topic, "--delivery-timeout", "300")
        kafka.check(options)
        sink = kafka.create(options, 0, 1)
        sink.open()
        broker.process.kill()
        broker.process.wait()
        batch = next(batches(5000))
        sink.send(batch.data, batch.lines, time.time())
        delivered, failed, reasons = totals(sink.close(1))
    assert (delivered, failed, reasons) == (0, batch.lines, Counter({"FLUSH_TIMED_OUT": batch.lines}))


def test_e2e_consumer_sees_every_message(broker, topic):
    options = make("--broker", broker.bootstrap, "--topic", topic, "--partitions", "2")
    kafka.check(options)
    seen, stop = [], threading.Event()
    reader = threading.Thread(target=e2e_consumer, args=(options, stop, seen.append), kwargs={"since": 0})
    reader.start()
    try:
        _, acks, sent = deliver(options, 5_000)
        deadline = time.monotonic() + 30
        while sum(map(len, seen)) < sent and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        reader.join(10)
    assert sum(map(len, seen)) == sent
    assert all(batch.dtype.kind == "i" and (batch > 0).all() for batch in seen)


@pytest.mark.parametrize("kind", ["embedded", "apache"])
def test_prepare_starts_the_local_broker_for_the_run_and_it_goes_with_the_run(kind, topic):
    if kind == "apache":
        apache_or_skip()
    with ExitStack() as resources:
        options = kafka.prepare(make("--broker", kind, "--topic", topic, "--verify"), resources)
        assert options.bootstrap.startswith("127.0.0.1:") and not kafka.needs_embedded(options)
        sink, acks, sent = deliver(options, 1000)
        assert verify(options, *sink.fingerprint(), timeout=5).ok
    with pytest.raises(UserError, match="cannot reach Kafka"):
        kafka.check(options)  # the broker went with the run


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (apt-get install -y kcat)")
def test_the_side_by_side_benchmark_measures_every_command_and_counts_every_line_back():
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "side_by_side.py"), "--lines", "3000",
                             "--repeat", "1"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for row in ("kcat -P -l -z lz4", "python loop", "stream kafka FILE", "generate | stream kafka",
                "run, 1 generator", "run, 2 generators"):
        assert re.search(rf"{re.escape(row)}[^\n]* [\d,]+ lines/s +[\d.]+x kcat", result.stdout), result.stdout
    assert "not measured" not in result.stdout
    assert re.search(r"generation: run --sink null -g 2 [\d,]+ lines/s, generate -P 2 [\d,]+ lines/s", result.stdout)


def test_the_side_by_side_benchmark_measures_generation_alone_when_asked():
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "side_by_side.py"), "--lines", "3000",
                             "--repeat", "2", "--only", "generation"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kcat" not in result.stdout
    assert re.search(r"generation: run --sink null -g 2 [\d,]+ lines/s, generate -P 2 [\d,]+ lines/s: "
                     r"[\d.]+x \(medians [\d.]+x\)", result.stdout), result.stdout


def test_e2e_consumer_waits_out_a_broker_slow_to_answer(tmp_path):
    """A broker that takes longer than a metadata request's timeout to
    answer (here: one that accepts connections and never answers) keeps the
    e2e consumer asking until the run stops it; it used to raise _TIMED_OUT
    out of the observer half a second in."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        options = make("--broker", f"127.0.0.1:{silent.getsockname()[1]}", "--topic", "t")
        raised, stop = [], threading.Event()

        def observe() -> None:
            try:
                e2e_consumer(options, stop, lambda latencies: None, since=0)
            except Exception as error:  # noqa: BLE001 - what the observer would have died of
                raised.append(error)

        reader = threading.Thread(target=observe)
        reader.start()
        time.sleep(2.0)  # four of the observer's half-second metadata deadlines
        stop.set()
        reader.join(30)
    assert not reader.is_alive() and raised == []
