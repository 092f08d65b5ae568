"""`generate` as shell pipelines use it: flags, output, errors, determinism."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from generators import FORMATS
from tests.fixtures.common import ROOT, run_cli
from tests.strict import PARSERS


def test_ten_valid_apache_lines():
    result = run_cli("generate", "--logtype", "apache", "--iterations", "10")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines(keepends=True)
    assert len(lines) == 10
    for line in lines:
        PARSERS["apache"](line)


def test_summary_line_names_lines_bad_kinds_time_and_rate():
    result = run_cli("generate", "-l", "Apache", "-i", "5000", "-b", "10", "-s", "4", "-p", "3")
    assert result.returncode == 0, result.stderr
    summary = result.stderr.decode().strip()
    assert summary.count("\n") == 0
    assert "5,000 lines" in summary and " bad (" in summary and "truncated" in summary
    assert " s, " in summary and "lines/s" in summary and "seed 4" in summary


def test_quiet_prints_nothing_on_stderr(tmp_path):
    out = tmp_path / "out.log"
    result = run_cli("generate", "-i", "3000", "-q", "-o", str(out))
    assert result.returncode == 0 and result.stderr == b"" and result.stdout == b""
    assert out.read_bytes().count(b"\n") == 3000


@pytest.mark.parametrize("args, culprit", [
    (["-l", "nosuchformat"], "nosuchformat"),
    (["-b", "101"], "--baddata"),
    (["-b", "-1"], "--baddata"),
    (["-i", "-5"], "--iterations"),
    (["-P", "0"], "--processes"),
    (["--baddata-kinds", "nosuch"], "nosuch"),
    (["--timezone", "Mars/Olympus"], "Mars/Olympus"),
    (["-o", "/no/such/dir/out.log"], "/no/such/dir/out.log"),
])
def test_bad_input_is_one_clear_line_and_exit_2(args, culprit):
    result = run_cli("generate", *args)
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1 and culprit.encode() in result.stderr, result.stderr
    assert b"Traceback" not in result.stderr


def test_closed_pipe_ends_quietly_with_status_0():
    command = f"{sys.executable} -c 'from harness.cli import generate; generate()' -i 0 | head -5; echo \"status ${{PIPESTATUS[0]}}\" >&2"
    result = subprocess.run(["bash", "-c", command], capture_output=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.count(b"\n") == 5
    assert result.stderr.strip() == b"status 0", result.stderr


def test_same_seed_same_bytes_whatever_the_process_count():
    one = run_cli("generate", "-i", "50000", "-s", "9", "-b", "5", "-q").stdout
    assert run_cli("generate", "-i", "50000", "-s", "9", "-b", "5", "-q").stdout == one
    assert run_cli("generate", "-i", "50000", "-s", "9", "-b", "5", "-q", "-P", "2").stdout == one
    assert run_cli("generate", "-i", "50000", "-s", "10", "-b", "5", "-q").stdout != one


def test_list_shows_every_format_with_an_example():
    result = run_cli("generate", "--list")
    assert result.returncode == 0
    text = result.stdout.decode()
    for name in FORMATS:
        assert f"\n{name} " in "\n" + text


def test_endless_generation_keeps_memory_flat():
    process = subprocess.Popen([sys.executable, "-c", "from harness.cli import generate; generate()", "-i", "0", "-q"],
                               stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        time.sleep(1.5)
        first = resident_kib(process.pid)
        time.sleep(4.0)
        later = resident_kib(process.pid)
    finally:
        process.kill()
        process.wait()
    assert later <= first * 1.05, (first, later)


def resident_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")
