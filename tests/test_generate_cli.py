"""`generate` as shell pipelines use it: flags, output, errors, determinism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from generators import FORMATS
from tests.fixtures.common import ROOT, run_cli
from tests.fixtures.processes import blocking
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


@pytest.mark.parametrize("processes", ["1", "2"])
def test_closed_pipe_ends_quietly_with_status_0(processes):
    command = (f"{sys.executable} -c 'from harness.cli.main import generate; generate()' -i 0 -P {processes} | head -5;"
               f" echo \"status ${{PIPESTATUS[0]}}\" >&2")
    result = subprocess.run(["bash", "-c", command], capture_output=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.count(b"\n") == 5
    assert result.stderr.strip() == b"status 0", result.stderr


def test_same_seed_same_bytes_whatever_the_process_count():
    one = run_cli("generate", "-i", "50000", "-s", "9", "-b", "5", "-q").stdout
    assert run_cli("generate", "-i", "50000", "-s", "9", "-b", "5", "-q").stdout == one
    assert run_cli("generate", "-i", "50000", "-s", "9", "-b", "5", "-q", "-P", "2").stdout == one
    assert run_cli("generate", "-i", "50000", "-s", "10", "-b", "5", "-q").stdout != one


@pytest.mark.parametrize("processes", ["1", "3"])
def test_realtime_stamps_never_go_back_whatever_the_process_count(processes):
    result = run_cli("generate", "--realtime", "-l", "json", "-i", "300000", "-P", processes, "-q")
    stamps = [json.loads(line)["@timestamp"] for line in result.stdout.splitlines()]
    assert len(stamps) == 300_000 and stamps == sorted(stamps)


def test_processes_report_the_same_bad_counts_as_one():
    summaries = [run_cli("generate", "-i", "30000", "-s", "3", "-b", "20", "-P", p, "-o", os.devnull).stderr.decode()
                 for p in ("1", "3")]
    bad = [summary.split(" bad (")[1].split(")")[0] for summary in summaries]
    assert bad[0] == bad[1] and "truncated" in bad[0]


@pytest.mark.parametrize("clock", [[], ["--realtime"]])
def test_ctrl_c_with_processes_writes_whole_lines_and_counts_them(tmp_path, clock, generating):
    out = tmp_path / "out.log"
    process, workers = endless_with_two_workers(generating, out, *clock)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert len(workers) == 2 and not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    data = out.read_bytes()
    lines = data.count(b"\n")
    assert data.endswith(b"\n") and lines > 10_000
    assert f"{lines:,} lines".encode() in stderr, stderr
    for line in data.splitlines(keepends=True)[-1000:]:
        PARSERS["apache"](line)


# How a user's tools stop an endless generate other than by Ctrl-C.
STOPS = {
    "SIGTERM to its process group": (signal.SIGTERM, ()),  # timeout(1), systemd: the workers get it too
    "SIGHUP to its process group": (signal.SIGHUP, ()),  # the terminal closed
    "Ctrl-C with SIGINT blocked by its launcher": (signal.SIGINT, (signal.SIGINT,)),
}


@pytest.mark.parametrize("processes", ["1", "2"])
@pytest.mark.parametrize("stop", list(STOPS))
def test_sigterm_sighup_and_a_blocked_ctrl_c_end_it_as_ctrl_c_does(tmp_path, generating, stop, processes):
    """Whole lines, counted in the summary, status 0; nothing left running."""
    out = tmp_path / "out.log"
    sig, blocked = STOPS[stop]
    process = generating("-i", "0", "-P", processes, "-o", str(out), stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=blocking(blocked))
    time.sleep(2.0)
    workers = children(process.pid)
    os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert len(workers) == (0 if processes == "1" else 2) and not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    data = out.read_bytes()
    lines = data.count(b"\n")
    assert data.endswith(b"\n") and lines > 10_000
    assert f"{lines:,} lines".encode() in stderr, stderr


def test_a_stop_while_the_workers_start_ends_at_once_with_whole_lines(tmp_path, generating):
    """SIGTERM to the group while the 64th worker is still being forked:
    the workers already started stop too, at once, not after a join each
    (at least four have started: that took 20 s or more)."""
    out = tmp_path / "out.log"
    process = generating("-i", "0", "-P", "64", "-o", str(out), stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while len(children(process.pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(children(process.pid)) < 64, "every worker had started: the stop came too late to test anything"
    began = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert time.monotonic() - began < 10, stderr  # it took 5 s per worker started
    assert process.returncode == 0, stderr
    data = out.read_bytes()
    lines = data.count(b"\n")
    assert data.endswith(b"\n") or not data
    assert f"{lines:,} lines".encode() in stderr, stderr


def test_a_killed_worker_fails_the_run_in_one_line_and_the_file_keeps_whole_lines(tmp_path, generating):
    out = tmp_path / "out.log"
    process, workers = endless_with_two_workers(generating, out)
    os.kill(workers[1], signal.SIGKILL)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert stderr.count(b"\n") == 1 and b"generator-1" in stderr and b"Traceback" not in stderr, stderr
    data = out.read_bytes()
    lines = data.count(b"\n")
    assert data.endswith(b"\n") and f"{lines:,} whole lines".encode() in stderr, stderr
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)


def test_list_shows_every_format_with_an_example():
    result = run_cli("generate", "--list")
    assert result.returncode == 0
    text = result.stdout.decode()
    for name in FORMATS:
        assert f"\n{name} " in "\n" + text


@pytest.mark.parametrize("processes, seconds", [("1", 20.0), ("2", 6.0)])
def test_endless_generation_keeps_memory_flat(processes, seconds, generating):
    """Resident memory after the first second of output, sampled each
    second, stays where it was at that first second."""
    process = generating("-i", "0", "-q", "-P", processes, stdout=subprocess.DEVNULL)
    while family(process.pid, "wchar:", "io") == 0:  # the first line comes after imports and pools
        time.sleep(0.05)
    time.sleep(1.0)
    first = family(process.pid, "VmRSS:", "status")
    later = []
    for _ in range(int(seconds) - 1):
        time.sleep(1.0)
        later.append(family(process.pid, "VmRSS:", "status"))
    assert max(later) <= first * 1.05, (first, later)


@pytest.fixture
def generating():
    """Starts `generate ARGS` processes; whatever a test leaves running (an
    endless run that did not stop) is killed with its workers, by PID, so
    that a failing test cannot go on filling the disk."""
    started: list[subprocess.Popen] = []

    def start(*args: str, **popen) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", "from harness.cli.main import generate; generate()", *args],
                                   env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            for child in children(process.pid):
                os.kill(child, signal.SIGKILL)
            process.kill()
            process.communicate()


def endless_with_two_workers(generating, out, *args: str) -> tuple[subprocess.Popen, list[int]]:
    """`generate -i 0 -P 2 -o OUT ARGS` two seconds into its run, and its workers' PIDs."""
    process = generating("-i", "0", "-P", "2", "-o", str(out), *args, stderr=subprocess.PIPE)
    time.sleep(2.0)
    return process, children(process.pid)


def children(pid: int) -> list[int]:
    return [int(child) for child in open(f"/proc/{pid}/task/{pid}/children").read().split()]


def family(pid: int, field: str, table: str) -> int:
    """A /proc/PID/{table} figure summed over a process and its children."""
    return sum(int(line.split()[1]) for p in [pid, *children(pid)] for line in open(f"/proc/{p}/{table}")
               if line.startswith(field))
