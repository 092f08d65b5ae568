"""Stopping a run: Ctrl-C drains and reports, a dead child stops the run, and
nothing (shared memory, processes) outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.common import ROOT
from tests.test_run import delivered, generated


def segments(pid: int) -> set[str]:
    """The shared-memory segments process `pid` has mapped (other tests may
    make their own meanwhile: only the run's own are checked)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    return {line.rsplit("/", 1)[1] for line in maps.splitlines() if "/dev/shm/psm_" in line}


def left_over(names: set[str]) -> set[str]:
    return {name for name in names if Path("/dev/shm", name).exists()}


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "harness", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=ROOT)


def children(pid: int) -> dict[int, str]:
    """Child processes of `pid` by their role name (/proc/PID/comm)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found[int(entry.name)] = (entry / "comm").read_text().strip()
            except (OSError, ValueError, IndexError):
                pass
    return found


def wait_for_roles(pid: int, role: str, timeout: float = 30) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {p: name for p, name in children(pid).items() if name.startswith(role)}
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {role} process under {pid}")


def survivors(pids, grace: float = 3.0) -> list[int]:
    """Those of `pids` still running after `grace` seconds (multiprocessing's
    resource tracker, a child too, exits just after the supervisor)."""
    deadline = time.monotonic() + grace
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_ctrl_c_drains_reports_and_leaves_nothing_behind():
    run = start("run", "--lines", "10000000", "--generators", "2", "--sink", "null")
    kids = wait_for_roles(run.pid, "producer")
    time.sleep(2.0)
    ours = segments(run.pid)
    assert ours
    run.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, stderr = run.communicate(timeout=30)
    assert time.monotonic() - stopped < 5
    assert run.returncode == 0, stderr
    made = generated(stderr)
    assert 0 < made < 10_000_000
    assert delivered(stderr, "null") == (made, 0)
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert not left_over(ours)
    assert not survivors(kids)


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
