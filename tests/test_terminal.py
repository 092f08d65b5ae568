"""Ctrl-C as a terminal sends it: tmux runs `logstorm run kafka-1m` in a real
pseudo-terminal, and `send-keys C-c` makes the terminal signal the whole
foreground process group, the embedded broker's launcher included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.fixtures.common import ROOT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)")


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=10).stdout


def wait_for(socket: str, seen: Callable[[str], object], seconds: float) -> str:
    """The pane's text once `seen` holds of it, or as it is at the deadline."""
    deadline = time.monotonic() + seconds
    while not seen(screen := tmux(socket, "capture-pane", "-p", "-S", "-100")) and time.monotonic() < deadline:
        time.sleep(0.2)
    return screen


def test_ctrl_c_in_a_terminal_drains_into_the_embedded_broker_and_writes_the_result(tmp_path):
    socket = f"logstorm-test-{tmp_path.name}"
    results = tmp_path / "results"
    # 3M lines paced at 300,000/s take 10 s, so a Ctrl-C sent once the
    # dashboard shows lines done lands mid-run however fast the machine is;
    # the shell ignores SIGINT once logstorm has exited, so the pane outlives
    # it for reading.
    command = (f"cd {ROOT} && python3 -m harness run kafka-1m --set load.lines=3000000 --set load.rate=300000 "
               f"--results {results}; echo EXIT=$?; trap '' INT; sleep 60")
    tmux(socket, "new-session", "-d", "-x", "160", "-y", "50", command)
    try:
        wait_for(socket, lambda screen: re.search(r"[1-9][\d,]* of 3,000,000 lines done", screen), seconds=30)
        tmux(socket, "send-keys", "C-c")
        screen = wait_for(socket, lambda screen: "EXIT=" in screen, seconds=60)
    finally:
        tmux(socket, "kill-server")
    assert "EXIT=0" in screen, screen
    assert "interrupted; drained what was in flight" in screen, screen
    made = int(re.search(r"kafka-1m \(seed 1\): ([\d,]+) lines in", screen)[1].replace(",", ""))
    assert 0 < made < 3_000_000
    assert re.search(rf"kafka: {made:,} delivered, 0 failed", screen), screen
    [path] = results.rglob("*.json")
    result = json.loads(path.read_text())
    assert result["sinks"][0]["delivered"] == result["totals"]["generated"] == made
