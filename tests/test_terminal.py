"""Ctrl-C as a terminal sends it: tmux runs `logstorm run kafka-1m` in a real
pseudo-terminal, and `send-keys C-c` makes the terminal signal the whole
foreground process group, the embedded broker's launcher included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest

from tests.fixtures.common import ROOT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)")


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=10).stdout


def test_ctrl_c_in_a_terminal_drains_into_the_embedded_broker_and_writes_the_result(tmp_path):
    socket = f"logstorm-test-{tmp_path.name}"
    results = tmp_path / "results"
    # 3M lines, so that the Ctrl-C at 3 s lands mid-run; the shell ignores
    # SIGINT once logstorm has exited, so the pane outlives it for reading.
    command = (f"cd {ROOT} && python3 -m harness run kafka-1m --set load.lines=3000000 --results {results}; "
               "echo EXIT=$?; trap '' INT; sleep 60")
    tmux(socket, "new-session", "-d", "-x", "160", "-y", "50", command)
    try:
        time.sleep(3.0)
        tmux(socket, "send-keys", "C-c")
        deadline = time.monotonic() + 60
        while "EXIT=" not in (screen := tmux(socket, "capture-pane", "-p", "-S", "-100")) and time.monotonic() < deadline:
            time.sleep(0.2)
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
