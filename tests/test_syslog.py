"""The syslog sink into a real rsyslog (tests/fixtures/rsyslog.py), read back
at its far end: TCP with octet-counting or LF framing, TLS with a CA made by
the test, UDP; rsyslog to Kafka; rsyslog killed and restarted mid-run; a
template that drops the tag. Bad flags are one line, exit 2."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generators.tag import TOKEN, Tagger
from sinks.syslog import DatagramSink, Options
from sinks.syslog_wire import enveloped, framed, header, strip_envelope
from tests.fixtures.common import ROOT
from tests.fixtures.rsyslog import certificates, rsyslog, syslog_ng, syslog_ng_root  # noqa: F401

SEED = "7"


def run_into(cli, server, target: str, lines: int, results: Path, *flags: str) -> tuple[subprocess.CompletedProcess, dict]:
    done = cli("run", "--lines", str(lines), "--seed", SEED, "-q", "--sink", "syslog", "--target", target,
               "--envelope", "rfc5424", "--read-back", f"file://{server.output}", "--read-back-quiet", "2",
               "--results", str(results), *flags)
    found = sorted(results.glob("adhoc/*.json"))
    return done, json.loads(found[-1].read_text()) if found else {}


def generated(cli, lines: int, run: str) -> list[bytes]:
    """What `generate` makes of the same seed, tagged as the run tagged it."""
    data = cli("generate", "-l", "apache", "-i", str(lines), "--seed", SEED).stdout
    return Tagger("apache", run)(data, 0).splitlines()


def arrived(server) -> list[bytes]:
    """The messages rsyslog wrote, stripped of the envelope the sink put on."""
    return [strip_envelope(line, "rfc5424") for line in server.output.read_bytes().splitlines()]


def wait_for_lines(path: Path, lines: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_bytes().count(b"\n") >= lines):
        assert time.monotonic() < deadline, f"{path} never held {lines} lines"
        time.sleep(0.05)


def assert_all_arrived(done, result: dict, lines: int) -> None:
    assert done.returncode == 0, done.stderr.decode()
    found = result["read_back"]
    assert (found["seen"], found["missing"], found["duplicated"], found["untagged"]) == (lines, 0, 0, 0)


def test_tcp_octet_counting_into_rsyslog_every_line_arrives_as_generated(cli, rsyslog, tmp_path):
    server = rsyslog()
    done, result = run_into(cli, server, f"tcp://127.0.0.1:{server.tcp_port}", 100_000, tmp_path)
    assert_all_arrived(done, result, 100_000)
    assert result["sinks"][0]["delivered"] == 100_000
    lines = arrived(server)
    run = TOKEN.search(lines[0]).group(1).decode()
    assert lines == generated(cli, 100_000, run)


@pytest.mark.slow
def test_tls_with_a_ca_made_by_the_test(cli, rsyslog, certificates, tmp_path):
    server = rsyslog(tls=certificates)
    done, result = run_into(cli, server, f"tls://127.0.0.1:{server.tls_port}", 100_000, tmp_path, "--ca", str(certificates[0]))
    assert_all_arrived(done, result, 100_000)
    lines = arrived(server)
    assert lines == generated(cli, 100_000, TOKEN.search(lines[0]).group(1).decode())


def test_tls_refuses_a_server_it_cannot_verify_unless_insecure(cli, rsyslog, certificates, tmp_path):
    server = rsyslog(tls=certificates)
    target = f"tls://127.0.0.1:{server.tls_port}"
    refused = cli("run", "--lines", "10", "-q", "--sink", "syslog", "--target", target)
    assert refused.returncode == 2
    assert b"CERTIFICATE_VERIFY_FAILED" in refused.stderr and b"Traceback" not in refused.stderr
    done, result = run_into(cli, server, target, 1000, tmp_path, "--insecure", "--connections", "2", "-P", "2")
    assert_all_arrived(done, result, 1000)


def test_lf_framing(cli, rsyslog, tmp_path):
    server = rsyslog()
    done, result = run_into(cli, server, f"tcp://127.0.0.1:{server.tcp_port}", 5000, tmp_path, "--framing", "lf")
    assert_all_arrived(done, result, 5000)


@pytest.mark.slow
def test_udp_at_20000_lines_a_second_is_sent_unacknowledged_and_loss_is_measured(cli, rsyslog, tmp_path):
    server = rsyslog(udp=True)
    done, result = run_into(cli, server, f"udp://127.0.0.1:{server.udp_port}", 100_000, tmp_path, "--rate", "20000")
    sink, found = result["sinks"][0], result["read_back"]
    assert sink["acknowledged"] is False
    assert b"100,000 sent, unacknowledged" in done.stderr
    assert f"{found['seen']:,} of the 100,000 lines sent arrived".encode() in done.stderr
    assert found["seen"] + found["missing"] == 100_000 and found["duplicated"] == 0
    assert done.returncode == (1 if found["missing"] else 0)
    assert result["sinks"][0]["latency"]["e2e"]["p99"] is not None


def test_through_rsyslog_to_kafka_with_end_to_end_latency(cli, rsyslog, kafka_broker, topic, tmp_path):
    server = rsyslog(kafka=(kafka_broker.bootstrap, topic))
    done = cli("run", "--lines", "20000", "--rate", "10000", "-q", "--sink", "syslog", "--envelope", "rfc5424",
               "--target", f"tcp://127.0.0.1:{server.tcp_port}", "--read-back", f"kafka://{kafka_broker.bootstrap}/{topic}",
               "--read-back-quiet", "3", "--results", str(tmp_path))
    result = json.loads(next(tmp_path.glob("adhoc/*.json")).read_text())
    assert_all_arrived(done, result, 20_000)
    e2e = result["sinks"][0]["latency"]["e2e"]
    assert e2e["count"] == 20_000 and 0 < e2e["p50"] <= e2e["p99"] <= e2e["max"]


def test_the_rsyslog_kafka_profile_documents_the_chain_and_runs_it(cli, rsyslog, kafka_broker, topic, tmp_path):
    server = rsyslog(kafka=(kafka_broker.bootstrap, topic))
    done = cli("run", "rsyslog-kafka", "-q", "--set", f"sinks.0.target=tcp://127.0.0.1:{server.tcp_port}",
               "--set", f"read_back.url=kafka://{kafka_broker.bootstrap}/{topic}", "--set", "load.duration=1",
               "--set", "read_back.quiet=2", "--results", str(tmp_path))
    result = json.loads(next(tmp_path.glob("*/*.json")).read_text())
    assert_all_arrived(done, result, 10_000)
    assert result["profile"]["resolved"]["read_back"]["url"].endswith(f"/{topic}")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["tcp", "tls"])
def test_rsyslog_killed_and_restarted_the_sink_reconnects_and_the_loss_is_accounted(rsyslog, certificates, tmp_path, scheme):
    server = rsyslog(tls=certificates)
    target = f"tcp://127.0.0.1:{server.tcp_port}" if scheme == "tcp" else f"tls://127.0.0.1:{server.tls_port}"
    command = [sys.executable, "-m", "harness", "run", "--lines", "40000", "--rate", "10000", "-q", "--sink", "syslog",
               "--target", target, *(["--ca", str(certificates[0])] if scheme == "tls" else []), "--envelope", "rfc5424",
               "--read-back", f"file://{server.output}", "--read-back-quiet", "2", "--results", str(tmp_path)]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        wait_for_lines(server.output, 5000)  # mid-run, however slowly the run started
        server.kill()
        time.sleep(0.5)
        server.start()
        stderr = run.communicate(timeout=120)[1].decode()
    finally:
        run.kill()
    found_files = sorted(tmp_path.glob("adhoc/*.json"))
    assert found_files, stderr
    result = json.loads(found_files[0].read_text())
    sink, found = result["sinks"][0], result["read_back"]
    not_delivered = sink["failed"] + sink["in_doubt"] + sink["unsent"]
    assert sink["delivered"] > 20_000, "the sink went on delivering after the restart"
    assert found["seen"] + found["missing"] == 40_000
    if found["missing"] != not_delivered:
        assert "lost past what it knew" in stderr
    assert run.returncode == (1 if found["missing"] or not_delivered else 0), stderr
    assert result["errors"] == []


def test_a_template_that_drops_the_tag_is_reported_as_untagged(cli, rsyslog, tmp_path):
    server = rsyslog(template="%msg:1:20%\\n")
    done, result = run_into(cli, server, f"tcp://127.0.0.1:{server.tcp_port}", 2000, tmp_path)
    found = result["read_back"]
    assert (found["untagged"], found["seen"], found["missing"]) == (2000, 0, 2000)
    assert done.returncode == 1
    assert b"2,000 lines arrived without a tag" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["octet-counting", "lf"])
def test_syslog_ng_as_a_second_shipper(cli, syslog_ng, tmp_path, framing):
    server = syslog_ng(framing=framing)
    done, result = run_into(cli, server, f"tcp://127.0.0.1:{server.tcp_port}", 20_000, tmp_path, "--framing", framing)
    assert_all_arrived(done, result, 20_000)
    lines = server.output.read_bytes().splitlines()  # syslog-ng writes each message's MSG: no envelope to strip
    assert lines == generated(cli, 20_000, TOKEN.search(lines[0]).group(1).decode())


@pytest.mark.slow
def test_a_shipper_that_cuts_the_connection_leaves_the_lines_in_doubt(cli, syslog_ng, tmp_path):
    server = syslog_ng(framing="octet-counting")  # syslog() takes no LF framing: it drops the connection
    done, result = run_into(cli, server, f"tcp://127.0.0.1:{server.tcp_port}", 2000, tmp_path, "--framing", "lf")
    sink, found = result["sinks"][0], result["read_back"]
    assert done.returncode == 1
    assert sink["delivered"] + sink["failed"] == 2000 and found["seen"] == 0
    assert any(reason.startswith("in doubt: written to a connection that then failed") for reason in result["totals"]["failed_by_reason"])


@pytest.mark.parametrize("flags, said", [
    ([], b"the syslog sink needs --target"),
    (["--target", "http://127.0.0.1:514"], b"expected udp://HOST:PORT"),
    (["--target", "tcp://127.0.0.1"], b"expected udp://HOST:PORT"),
    (["--target", "tcp://127.0.0.1:1", "--ca", "x.pem"], b"--ca and --insecure are for tls://"),
    (["--target", "tcp://127.0.0.1:1"], b"cannot connect to tcp://127.0.0.1:1: ECONNREFUSED"),
    (["--target", "udp://127.0.0.1:514", "--read-back", "ftp://x/y"], b"--read-back ftp://x/y: expected"),
    (["--target", "udp://127.0.0.1:514", "--tag", "--shard", "0/2"], b"--tag and --read-back are for a run on one machine"),
])
def test_bad_flags_are_one_line_and_exit_2(cli, flags, said):
    done = cli("run", "--lines", "10", "-q", "--sink", "syslog", *flags)
    assert done.returncode == 2
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_oversized_datagram_fails_with_its_reason():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    options = Options("udp", "127.0.0.1", receiver.getsockname()[1], "octet-counting", "none", 1, None, False, "host")
    sink = DatagramSink(options)
    sink.open()
    sink.send(b"small\n" + b"x" * 70_000 + b"\n", 2, 1.0)
    acks = sink.close(1.0)
    assert [(a.delivered, a.failed) for a in acks] == [(1, 0), (0, 1)]
    assert "65,507" in acks[1].reason
    assert receiver.recv(100) == b"small"
    receiver.close()


def test_octet_counting_frames_each_message_with_its_length():
    data = enveloped(b"a b\nccc\n", header("rfc5424", 0.0, "h", "app"))
    first, second = b"<134>1 1970-01-01T00:00:00.000Z h app - - - a b", b"<134>1 1970-01-01T00:00:00.000Z h app - - - ccc"
    assert framed(data, "octet-counting") == b"47 " + first + b"47 " + second
    assert framed(data, "lf") == data
    assert [strip_envelope(line, "rfc5424") for line in data.splitlines()] == [b"a b", b"ccc"]
    legacy = enveloped(b"x: y\n", header("rfc3164", 0.0, "h", "app"))
    assert legacy == b"<134>Jan  1 00:00:00 h app: x: y\n" and strip_envelope(legacy[:-1], "rfc3164") == b"x: y"


@pytest.mark.parametrize("prefix", [b"", b"<134>1 1970-01-01T00:00:00.000Z h app - - - "])
def test_octet_counting_writes_lengths_of_any_number_of_digits(prefix: bytes) -> None:
    # Lengths of 0 to 4 digits side by side: framed() writes them in one pass
    # in the widest one's places and leaves out the places a shorter one does not use.
    lines = [b"", b"x" * 9, b"y" * 10, b"z" * 1234, b"w", b"v" * 99, b"u" * 100]
    data = b"".join(line + b"\n" for line in lines)
    expected = b"".join(b"%d %s%s" % (len(prefix + line), prefix, line) for line in lines)
    assert framed(data, "octet-counting", prefix) == expected
    assert framed(b"q" * 100 + b"\n" + b"r" * 200 + b"\n", "octet-counting", prefix) == b"".join(
        b"%d %s%s" % (len(prefix) + n, prefix, c * n) for c, n in ((b"q", 100), (b"r", 200)))
    assert framed(data, "lf", prefix) == enveloped(data, prefix) == b"".join(prefix + line + b"\n" for line in lines)
    # Unpaced, the sink frames a view of the ring's own bytes (it borrows them).
    for framing in ("octet-counting", "lf"):
        assert bytes(framed(memoryview(data), framing, prefix)) == framed(data, framing, prefix)
