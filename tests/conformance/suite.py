"""The abstract conformance tests every sink runs (how to plug one in: the
package docstring, tests/conformance/__init__.py)."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.fixtures.common import run_cli
from tests.test_faults import Watched

# Paced runs last long enough that a fault lands mid-run, and end by the
# fault; the slow-server run ends by itself a few seconds after the server resumes.
LONG_SECONDS = 60
SHORT_SECONDS = 3
STOPPED_SECONDS = 1.5
UNREACHABLE_SECONDS = 15.0
STARTED_WITHIN = 30.0
KILLED_WITHIN = 30.0  # a sink's own timeout, then DOWN_SECONDS of nothing but failures


@dataclass(frozen=True)
class Target:
    """What one test runs against: see tests/conformance/__init__.py."""

    flags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    server: Callable[[int], int] | None = None  # run's PID -> PID of the server process
    no_server: str = "it has no server"  # why `server` is None: the reason the slow and killed cases skip
    stored: Callable[[], int] | None = None  # lines the server holds now
    secret: str | None = None
    lines: int = 20_000  # of the unpaced run
    rate: int = 20_000  # lines/s of the paced runs: what the server takes with room to spare (a drain empties the rings)

    def paced(self, seconds: int) -> tuple[str, ...]:
        return ("--format", "apache", "--rate", str(self.rate), "--duration", str(seconds), "--quiet")


def accounted(result: dict) -> dict:
    """The run's only sink, after checking that every generated line is in
    one of its counts and every lost line has a reason."""
    [sink] = result["sinks"]
    made = result["totals"]["generated"]
    assert made > 0
    assert sink["delivered"] + sink["failed"] + sink["unsent"] + sink["in_doubt"] == made, sink
    assert sum(sink["lost_by_reason"].values()) == sink["unsent"] + sink["in_doubt"], sink
    return sink


def result_of(results: Path) -> dict:
    [path] = results.rglob("*.json")
    return json.loads(path.read_text())


class SinkConformance:
    sink: str = ""

    @pytest.fixture
    def target(self) -> Target:
        raise NotImplementedError("a conformance subclass defines the `target` fixture")

    @pytest.fixture
    def unreachable(self) -> tuple[str, ...]:
        pytest.skip(f"the {self.sink} sink has no server that could be unreachable")

    def watched(self, tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch, *load: str,
                session: bool = False) -> Watched:
        """The run started and, where the server can say so, delivering: a
        fault then lands mid-run, not in its set-up."""
        for key, value in target.env.items():
            monkeypatch.setenv(key, value)
        # Generators start last, after the supervisor built the line factory (seconds on a loaded machine).
        run = Watched(tmp_path, *load, "--sink", self.sink, *target.flags, wait_for="generator", session=session)
        deadline = time.monotonic() + STARTED_WITHIN
        while target.stored is not None and not target.stored() and time.monotonic() < deadline:
            time.sleep(0.2)
        return run

    def test_every_line_is_delivered_and_counted(self, tmp_path: Path, target: Target) -> None:
        done = run_cli("run", "--sink", self.sink, *target.flags, "--lines", str(target.lines), "--quiet",
                       "--results", str(tmp_path / "results"), env=target.env)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        sink = accounted(result_of(tmp_path / "results"))
        assert (sink["delivered"], sink["failed"]) == (target.lines, 0)
        if target.stored is not None:
            assert target.stored() == target.lines

    def test_a_slow_server_holds_the_run_back_and_loses_nothing(self, tmp_path: Path, target: Target,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        if target.server is None:
            pytest.skip(f"no server to slow down: {target.no_server}")
        run = self.watched(tmp_path, target, monkeypatch, *target.paced(SHORT_SECONDS))
        pid = target.server(run.process.pid)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(STOPPED_SECONDS)
        finally:
            os.kill(pid, signal.SIGCONT)
        stderr = run.end(within=KILLED_WITHIN)
        assert run.process.returncode == 0, stderr
        sink = accounted(run.result())
        assert sink["delivered"] == run.result()["totals"]["generated"] == target.rate * SHORT_SECONDS, sink
        if target.stored is not None:
            assert target.stored() == sink["delivered"]
        run.assert_nothing_left()

    def test_an_unreachable_server_is_exit_2_within_15_s(self, unreachable: tuple[str, ...], target: Target) -> None:
        """Errors are where URLs and settings get echoed: the target's secret
        (given to this run too) must not be in this one either."""
        began = time.monotonic()
        done = run_cli("run", "--sink", self.sink, *unreachable, "--lines", "100", "--quiet", env=target.env,
                       timeout=60)
        took = time.monotonic() - began
        stderr = done.stderr.decode(errors="replace")
        assert done.returncode == 2, stderr
        assert took < UNREACHABLE_SECONDS, f"{took:.1f} s"
        assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
        assert target.secret is None or target.secret not in stderr + done.stdout.decode(errors="replace")

    def test_a_server_killed_mid_run_ends_it_with_every_line_counted(self, tmp_path: Path, target: Target,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        if target.server is None:
            pytest.skip(f"no server to kill: {target.no_server}")
        run = self.watched(tmp_path, target, monkeypatch, *target.paced(LONG_SECONDS))
        os.kill(target.server(run.process.pid), signal.SIGKILL)
        stderr = run.end(within=KILLED_WITHIN)
        assert run.process.returncode == 1, stderr
        sink = accounted(run.result())
        assert sink["failed"] + sink["unsent"] + sink["in_doubt"] > 0, sink
        assert sink["failed"] == sum(run.result()["totals"]["failed_by_reason"].values())
        run.assert_nothing_left()

    def test_credentials_are_never_printed(self, tmp_path: Path, target: Target) -> None:
        if target.secret is None:
            pytest.skip(f"the {self.sink} sink is given no credentials")
        done = run_cli("run", "--sink", self.sink, *target.flags, "--lines", "1000",
                       "--results", str(tmp_path / "results"), env=target.env)
        outputs = [done.stdout, done.stderr, *(p.read_bytes() for p in (tmp_path / "results").rglob("*.json"))]
        assert not [out for out in outputs if target.secret.encode() in out]

    def test_ctrl_c_drains_what_is_in_flight(self, tmp_path: Path, target: Target,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
        run = self.watched(tmp_path, target, monkeypatch, *target.paced(LONG_SECONDS), session=True)
        os.killpg(run.process.pid, signal.SIGINT)
        stderr = run.end(within=15)
        assert run.process.returncode == 0, stderr
        assert "drained what was in flight" in stderr
        sink = accounted(run.result())
        assert sink["delivered"] == run.result()["totals"]["generated"], sink
        if target.stored is not None:
            assert target.stored() == sink["delivered"]
        run.assert_nothing_left()
