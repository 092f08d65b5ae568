"""Faults a real run meets, from outside, as a user would cause them: a child
killed, stopped or hung, the supervisor killed, Ctrl-C to the whole process
group on the embedded broker, a second Ctrl-C with the broker gone, SIGTERM.
Each case: the run ends within a bound, with the exit status a user expects,
every sink's lines add up in the result file (generated = delivered + failed
+ unsent + in doubt), and no shared-memory segment or process is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.processes import alive, children, left_over, segments, start, survivors, wait_for_roles

PACED = ("--format", "apache", "--rate", "20000", "--duration", "60", "--quiet")


class Watched:
    """A run started for a fault: its children and segments, seen once it is going."""

    def __init__(self, tmp_path: Path, *args: str, wait_for: str = "producer", session: bool = False) -> None:
        self.results = tmp_path / "results"
        self.process = start("run", *args, "--results", str(self.results), session=session)
        wait_for_roles(self.process.pid, wait_for)
        time.sleep(1.5)  # well into the run
        self.kids = children(self.process.pid)
        self.segments = segments(self.process.pid)
        assert self.segments

    def role(self, prefix: str) -> tuple[int, str]:
        return next((pid, name) for pid, name in self.kids.items() if name.startswith(prefix))

    def end(self, within: float) -> str:
        """Wait for the run to end (at most `within` seconds); its stderr."""
        began = time.monotonic()
        _, stderr = self.process.communicate(timeout=within + 30)
        took = time.monotonic() - began
        assert took < within, f"the run took {took:.1f} s to end, more than {within} s: {stderr.decode(errors='replace')}"
        assert b"Traceback" not in stderr, stderr.decode(errors="replace")
        return stderr.decode(errors="replace")

    def result(self) -> dict:
        [path] = self.results.rglob("*.json")
        return json.loads(path.read_text())

    def assert_every_line_counted(self) -> dict:
        result = self.result()
        made = result["totals"]["generated"]
        assert made > 0
        for sink in result["sinks"]:
            parts = sink["delivered"] + sink["failed"] + sink["unsent"] + sink["in_doubt"]
            assert parts == made, sink
            assert sum(sink["lost_by_reason"].values()) == sink["unsent"] + sink["in_doubt"], sink
        return result

    def assert_nothing_left(self) -> None:
        assert not left_over(self.segments)
        assert not survivors(self.kids)


ROLES = [
    ("generator", ("--sink", "null")),
    ("producer", ("--sink", "null")),
    ("metrics", ("--sink", "null")),
    ("observer", ("--sink", "kafka", "--e2e", "--topic", "faults-observer")),
]


@pytest.mark.parametrize("role, sink", ROLES, ids=[role for role, _ in ROLES])
def test_kill_9_of_a_child_ends_the_run_naming_it_with_every_line_counted(tmp_path, role, sink):
    run = Watched(tmp_path, *PACED, *sink, wait_for=role)
    pid, name = run.role(role)
    os.kill(pid, signal.SIGKILL)
    stderr = run.end(within=10)
    assert run.process.returncode == 1, stderr
    assert f"{name}: killed by signal SIGKILL" in stderr
    result = run.assert_every_line_counted()
    assert f"{name}: killed by signal SIGKILL" in result["errors"]
    run.assert_nothing_left()


def test_a_stopped_child_is_killed_and_named(tmp_path):
    run = Watched(tmp_path, *PACED, "--sink", "null")
    pid, name = run.role("producer")
    os.kill(pid, signal.SIGSTOP)
    stderr = run.end(within=10)
    assert run.process.returncode == 1, stderr
    assert f"{name}: stopped by a signal" in stderr
    run.assert_every_line_counted()
    run.assert_nothing_left()


def test_a_sink_whose_send_never_returns_ends_the_run_as_hung(tmp_path):
    run = Watched(tmp_path, *PACED, "--sink", "tests.sinks.stall", "--stall-after", "0.5", "--stall-seconds", "3600")
    stderr = run.end(within=25)  # HUNG_SECONDS (10) after the stall began, and the set-up
    assert run.process.returncode == 1, stderr
    assert "no progress for" in stderr and "hung" in stderr
    result = run.assert_every_line_counted()
    assert result["sinks"][0]["in_doubt"] > 0  # handed to the sink, never acknowledged
    run.assert_nothing_left()


def test_ctrl_z_then_fg_after_a_while_is_neither_a_stopped_nor_a_hung_child(tmp_path):
    """Job control stops and resumes the whole process group; 11 s is longer
    than both the stopped and the hung limits."""
    run = Watched(tmp_path, *PACED, "--sink", "null", session=True)
    os.killpg(run.process.pid, signal.SIGTSTP)
    time.sleep(11)
    os.killpg(run.process.pid, signal.SIGCONT)
    time.sleep(2)
    assert run.process.poll() is None, "the run ended after it was resumed"
    os.killpg(run.process.pid, signal.SIGINT)
    stderr = run.end(within=10)
    assert run.process.returncode == 0, stderr
    result = run.assert_every_line_counted()
    assert result["sinks"][0]["delivered"] == result["totals"]["generated"]
    run.assert_nothing_left()


def test_kill_9_of_the_supervisor_takes_its_children_broker_and_segments_with_it(tmp_path):
    run = Watched(tmp_path, *PACED, "--sink", "kafka", "--topic", "faults-supervisor")
    broker, _ = run.role("tansu")
    os.kill(run.process.pid, signal.SIGKILL)
    run.process.communicate(timeout=10)
    assert not survivors([*run.kids, broker], grace=5.0)
    deadline = time.monotonic() + 5.0
    while left_over(run.segments) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left_over(run.segments)


def test_kill_9_of_the_whole_process_group_leaves_no_segment_and_no_broker(tmp_path):
    """Every process of the run killed at once (a container stopped): no one
    is left to clean up, and nothing needs to be."""
    run = Watched(tmp_path, *PACED, "--sink", "kafka", "--topic", "faults-group", session=True)
    broker, _ = run.role("tansu")
    os.killpg(run.process.pid, signal.SIGKILL)
    run.process.communicate(timeout=10)
    assert not survivors([*run.kids, broker], grace=5.0)
    assert not left_over(run.segments)


def test_ctrl_c_to_the_whole_process_group_drains_into_the_live_embedded_broker(tmp_path):
    """A terminal's Ctrl-C reaches every process of the foreground group: the
    broker is in a session of its own, so it is still there for the drain."""
    run = Watched(tmp_path, *PACED, "--sink", "kafka", "--topic", "faults-ctrl-c", session=True)
    os.killpg(run.process.pid, signal.SIGINT)
    stderr = run.end(within=10)
    assert run.process.returncode == 0, stderr
    assert "drained what was in flight" in stderr
    result = run.assert_every_line_counted()
    assert result["sinks"][0]["delivered"] == result["totals"]["generated"]
    run.assert_nothing_left()


def test_a_second_ctrl_c_with_the_broker_stopped_aborts_within_2_s(tmp_path):
    run = Watched(tmp_path, *PACED, "--sink", "kafka", "--topic", "faults-abort", session=True)
    broker, _ = run.role("tansu")
    os.kill(broker, signal.SIGSTOP)  # nothing more will be acknowledged
    time.sleep(0.5)
    os.killpg(run.process.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(run.process.pid, signal.SIGINT)
    stderr = run.end(within=2.0)
    assert run.process.returncode == 130, stderr
    assert "aborted" in stderr
    result = run.assert_every_line_counted()
    assert result["sinks"][0]["delivered"] < result["totals"]["generated"]
    run.assert_nothing_left()
    assert not alive(broker)


def test_the_broker_killed_mid_run_ends_the_run_with_every_line_counted(tmp_path):
    run = Watched(tmp_path, *PACED, "--sink", "kafka", "--topic", "faults-broker", "--delivery-timeout", "3")
    broker, _ = run.role("tansu")
    os.kill(broker, signal.SIGKILL)
    stderr = run.end(within=30)  # the delivery timeout, then the sink is down for 5 s
    assert run.process.returncode == 1, stderr
    result = run.assert_every_line_counted()
    assert result["sinks"][0]["failed"] > 0 and result["totals"]["failed_by_reason"], result["totals"]
    run.assert_nothing_left()


@pytest.mark.parametrize("group", [False, True], ids=["to the supervisor", "to its process group"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_drain_like_ctrl_c(tmp_path, sig, group):
    """Sent to the whole group (timeout(1), systemd), the signal reaches
    every child too: they leave the stopping to the supervisor."""
    run = Watched(tmp_path, *PACED, "--sink", "null", session=group)
    if group:
        os.killpg(run.process.pid, sig)
    else:
        run.process.send_signal(sig)
    stderr = run.end(within=10)
    assert run.process.returncode == 0, stderr
    result = run.assert_every_line_counted()
    assert result["sinks"][0]["delivered"] == result["totals"]["generated"]
    run.assert_nothing_left()


def test_stream_stdout_into_head_ends_at_once_counting_what_was_written(tmp_path):
    lines = tmp_path / "lines.log"
    lines.write_bytes(b"".join(b"line %d\n" % i for i in range(500_000)))
    began = time.monotonic()
    done = subprocess.run(f"stream stdout {lines} | head -1", shell=True, capture_output=True, timeout=60)
    assert time.monotonic() - began < 5
    assert done.stdout == b"line 0\n"
    stderr = done.stderr.decode()
    assert "0 failed" in stderr and "Traceback" not in stderr and "error" not in stderr
    assert "unsent: " in stderr and "stdout was closed by its reader" in stderr


def test_ctrl_c_while_the_sinks_are_checked_is_one_line_and_130(tmp_path):
    """Before the run starts (here: waiting for a broker nobody serves),
    Ctrl-C has nothing to drain: one line, status 130, no traceback, no result."""
    from tests.fixtures.aws import free_port

    process = start("run", "--lines", "1000", "--sink", "kafka", "--broker", f"127.0.0.1:{free_port()}",
                    "--results", str(tmp_path / "results"))
    time.sleep(2.0)  # the check waits up to 10 s for the broker
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 130, stderr
    assert stderr.decode().strip().splitlines()[-1] == "logstorm run: interrupted"
    assert b"Traceback" not in stderr
    assert not list(tmp_path.rglob("*.json"))
