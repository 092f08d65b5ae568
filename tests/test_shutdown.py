"""Stopping a run: Ctrl-C drains and reports, a dead child stops the run, and
nothing (shared memory, processes) outlives it."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.fixtures.processes import children, left_over, segments, start, survivors, wait_for_roles
from tests.test_run import delivered, generated


def test_ctrl_c_drains_reports_and_leaves_nothing_behind():
    run = start("run", "--lines", "100000000", "--generators", "2", "--sink", "null")
    kids = wait_for_roles(run.pid, "producer")
    time.sleep(2.0)
    ours = segments(run.pid)
    assert ours
    # Its roles only: no resource tracker (an interpreter of its own) is started for the segments.
    assert sorted(name.split("-")[0] for name in children(run.pid).values()) == ["generator", "generator", "metrics", "producer"]
    run.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, stderr = run.communicate(timeout=30)
    assert time.monotonic() - stopped < 5
    assert run.returncode == 0, stderr
    made = generated(stderr)
    assert 0 < made < 100_000_000
    assert delivered(stderr, "null") == (made, 0)
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert not left_over(ours)
    assert not survivors(kids)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_run_started_with_its_stop_signals_blocked_still_stops_on_them(sig):
    run = start("run", "--lines", "100000000", "--sink", "null", "-q", blocked=(signal.SIGINT, signal.SIGTERM))
    wait_for_roles(run.pid, "producer")
    time.sleep(1.0)
    run.send_signal(sig)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 0, stderr
    assert b"interrupted" in stderr and b"Traceback" not in stderr


def test_a_killed_generator_ends_the_run_naming_it():
    run = start("run", "--lines", "50000000", "--generators", "2", "--sink", "null", "-q")
    generators = wait_for_roles(run.pid, "generator")
    kids = children(run.pid)
    time.sleep(1.0)
    ours = segments(run.pid)
    assert ours
    victim = min(generators)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    _, stderr = run.communicate(timeout=30)
    assert time.monotonic() - killed < 5
    assert run.returncode not in (0, None)
    assert f"{generators[victim]}: killed by signal SIGKILL".encode() in stderr, stderr
    assert b"Traceback" not in stderr
    assert not left_over(ours)
    assert not survivors(kids)
