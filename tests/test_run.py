"""`logstorm run` and `stream` end to end, across real processes: what a user
sees on stdout, stderr, in files and in the exit status."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import RunFailed
from tests.fixtures.common import ROOT, run_cli


def delivered(stderr: bytes, sink: str) -> tuple[int, int]:
    match = re.search(rf"  {sink}: ([\d,]+) delivered, ([\d,]+) failed".encode(), stderr)
    assert match, stderr.decode(errors="replace")
    return int(match[1].replace(b",", b"")), int(match[2].replace(b",", b""))


def generated(stderr: bytes) -> int:
    match = re.search(rb": ([\d,]+) lines in ", stderr)
    assert match, stderr.decode(errors="replace")
    return int(match[1].replace(b",", b""))


def file_lines(folder: Path) -> list[bytes]:
    lines = []
    for path in sorted(folder.iterdir()):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        lines += data.splitlines(keepends=True)
    return lines


def test_run_to_files_holds_exactly_the_generated_lines(tmp_path):
    reference = run_cli("generate", "-i", "150000", "-s", "7", "-P", "2", "-q")
    result = run_cli("run", "--lines", "150000", "--seed", "7", "--generators", "2", "--producers", "2",
                     "--sink", "file", "--path", str(tmp_path / "out"), "-c", "40000", "--sink", "null", "-q")
    assert result.returncode == 0, result.stderr
    assert generated(result.stderr) == 150_000
    assert delivered(result.stderr, "filesystem") == (150_000, 0)
    assert delivered(result.stderr, "null") == (150_000, 0)
    assert sorted(file_lines(tmp_path / "out")) == sorted(reference.stdout.splitlines(keepends=True))
    names = [p.name for p in (tmp_path / "out").iterdir()]
    assert len(names) >= 4 and not any(":" in n for n in names)


def test_the_repetitions_of_a_profile_send_the_same_lines(tmp_path):
    """The second repetition's generators are forked with the line factory
    the first one built (kept by the supervisor): the same bytes, bad lines included."""
    profile = tmp_path / "twice.toml"
    profile.write_text(f'''[profile]
description = "the same lines twice"
repeat = 2

[load]
lines = 30_000
seed = 9
baddata = 10
generators = 2

[[sinks]]
name = "filesystem"
path = "{tmp_path / 'out'}"
''')
    reference = run_cli("generate", "-i", "30000", "-s", "9", "-b", "10", "-q")
    result = run_cli("run", str(profile), "--results", str(tmp_path / "results"), "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(b"30,000 delivered, 0 failed") == 2
    assert sorted(file_lines(tmp_path / "out")) == sorted(reference.stdout.splitlines(keepends=True) * 2)


def test_a_run_with_the_smallest_rings_cuts_its_batches_to_fit_them(tmp_path):
    reference = run_cli("generate", "-i", "30000", "-s", "5", "-q")
    result = run_cli("run", "--lines", "30000", "--seed", "5", "--ring-mib", "0.0625",
                     "--sink", "file", "--path", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    assert delivered(result.stderr, "filesystem") == (30_000, 0)
    assert file_lines(tmp_path / "out") == reference.stdout.splitlines(keepends=True)


def test_stream_takes_ring_mib_for_a_line_longer_than_half_its_rings(tmp_path):
    lines = [b"short\n", b"x" * 40_000 + b"\n", b"after\n"]
    source = tmp_path / "long.log"
    source.write_bytes(b"".join(lines))
    small = run_cli("stream", "stdout", str(source), "--ring-mib", "0.0625", "-q")
    assert small.returncode == 1
    assert b"a line of 40,001 bytes does not fit a ring record (at most 32,736, half a ring): " \
           b"give the command larger rings with --ring-mib" in small.stderr
    assert b"ValueError" not in small.stderr and b"Error:" not in small.stderr
    assert re.search(rb"stdout: \d delivered, 0 failed, \d unsent", small.stderr), small.stderr
    larger = run_cli("stream", "stdout", str(source), "--ring-mib", "1", "-q")
    assert larger.returncode == 0, larger.stderr
    assert larger.stdout == b"".join(lines)


def test_a_batch_is_cut_into_pieces_of_whole_lines_that_fit_a_ring_record():
    from harness.run.generator import pieces

    lines = [b"x" * n + b"\n" for n in (10, 50, 3, 90, 20)]
    data = b"".join(lines)
    assert pieces(data, 5, 100, len(data)) == [(0, len(data), 5)]
    assert [count for _, _, count in pieces(data, 5, 2, len(data))] == [2, 2, 1]
    cut = pieces(data, 5, 100, 100)
    assert [data[a:b] for a, b, _ in cut] == [b"".join(lines[:3]), lines[3], lines[4]]
    assert [count for _, _, count in cut] == [3, 1, 1]
    with pytest.raises(RunFailed, match="a line of 91 bytes does not fit .*--ring-mib"):
        pieces(data, 5, 100, 80)


def test_stream_passes_bytes_through_untouched(tmp_path):
    data = b"ok line\n\xff\xfe broken utf-8 \xc3\x28\nno newline at the end"
    result = run_cli("stream", "stdout", "-q", input=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout == data + b"\n"


def test_stream_reads_plain_and_gzip_files_into_a_compressed_folder(tmp_path):
    lines = run_cli("generate", "-i", "20000", "-s", "3", "-q").stdout
    (tmp_path / "a.log").write_bytes(lines[:len(lines) // 2 + 1000].rpartition(b"\n")[0] + b"\n")
    rest = lines[len((tmp_path / "a.log").read_bytes()):]
    (tmp_path / "b.log.gz").write_bytes(gzip.compress(rest))
    out = tmp_path / "missing" / "folder"
    result = run_cli("stream", "filesystem", "--path", str(out), "-z", "gzip", "-c", "5000",
                     str(tmp_path / "a.log"), str(tmp_path / "b.log.gz"), "-q")
    assert result.returncode == 0, result.stderr
    assert b"".join(file_lines(out)) == lines
    assert all(p.name.endswith(".log.gz") for p in out.iterdir())


@pytest.mark.parametrize("args, culprit", [
    (["run", "--rate", "0"], "--rate"),
    (["run", "--rate", "-5"], "--rate"),
    (["run", "--sink", "nosuch"], "nosuch"),
    (["run", "--format", "nosuch"], "nosuch"),
    (["run", "--baddata", "101"], "--baddata"),
    (["stream", "stdout", "--rate", "0"], "--rate"),
    (["stream", "stdout", "/no/such/file.log"], "/no/such/file.log"),
    (["stream", "nosuch"], "nosuch"),
])
def test_bad_input_is_one_line_and_exit_2(args, culprit):
    result = run_cli(*args, input=b"")
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1 and culprit.encode() in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("content, where", [
    ('{"update_interval": 2, "schedule": [1000, 3000, 500,]}', ":1:"),
    ('{"update_interval": 2,\n "schedule": [1000, -3, 500]}', "-3"),
    ('{"update_interval": 0, "schedule": [1]}', "update_interval"),
])
def test_broken_schedule_names_the_file_and_place(tmp_path, content, where):
    path = tmp_path / "schedule.json"
    path.write_text(content)
    result = run_cli("stream", "stdout", "--schedule", str(path), input=b"x\n")
    assert result.returncode == 2, result.stderr
    assert str(path).encode() in result.stderr and where.encode() in result.stderr
    assert result.stderr.count(b"\n") == 1


def test_plan_prints_the_processes_and_rings():
    result = run_cli("plan", "--generators", "2", "--producers", "2", "--sink", "null")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "supervisor and 5 processes, 4 rings" in text
    assert "generator-0" in text and "generator-1" in text and "producer-null-1" in text and "metrics" in text


HEAVY = ("numpy", "confluent_kafka", "boto3", "botocore", "rich", "redis", "nats", "ray", "pika", "paho", "multiprocessing",
         "logging")
# What each command may load of the heavy modules (each costs tens to
# hundreds of milliseconds of start-up, multiprocessing a tenth of
# `generate`'s, logging 3 ms): only what its work needs.
NEEDS = [
    (("logstorm", "--help"), ()),
    (("logstorm", "compare", "--help"), ()),
    (("logstorm", "merge", "--help"), ()),
    (("logstorm", "broker", "--kind", "apache", "--fetch"), ()),  # .ci/run calls it before the pip install
    (("logstorm", "profiles"), ("numpy",)),
    (("logstorm", "plan", "smoke"), ("logging", "numpy")),  # smoke's Kafka sink logs librdkafka's lines
    (("generate", "-i", "10"), ("numpy",)),  # one process: it starts none
    (("generate", "-i", "10", "-P", "2"), ("multiprocessing", "numpy")),
    (("stream", "stdout", "-q"), ("multiprocessing", "numpy")),
    (("logstorm", "run", "--lines", "10", "--sink", "null", "-q", "--results", "RESULTS"), ("multiprocessing", "numpy")),
    # Kafka through the batch producer (ctypes on the wheel's librdkafka), embedded broker included:
    (("logstorm", "run", "--lines", "10", "--sink", "kafka", "-q", "--results", "RESULTS"), ("logging", "multiprocessing", "numpy")),
]


@pytest.mark.parametrize("command, allowed", NEEDS, ids=[" ".join(c) for c, _ in NEEDS])
def test_a_command_imports_only_the_heavy_modules_it_needs(tmp_path, command, allowed):
    """In the process the user started (a run's children load their sink's own)."""
    name, *args = (str(tmp_path) if a == "RESULTS" else a for a in command)
    entry = "main" if name == "logstorm" else name
    probe = ("import atexit, sys\n"
             f"atexit.register(lambda: print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr))\n"
             f"from harness.cli.main import {entry}\n{entry}({args!r})")
    done = subprocess.run([sys.executable, "-c", probe], input=b"a\n", capture_output=True, timeout=60, cwd=tmp_path)
    loaded = done.stderr.strip().splitlines()[-1].decode()
    assert loaded == str(sorted(allowed)), done.stderr.decode()


def test_a_run_from_a_program_with_threads_of_its_own_spawns_its_children(tmp_path):
    """Forking with another thread alive could copy a held lock: the
    supervisor spawns its children then, and hands them its rings and stats
    (descriptors of unnamed memory) as they start."""
    probe = ("import threading, time\n"
             "from harness.cli.main import main\n"
             "if __name__ == '__main__':\n"
             "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
             f"    main(['run', '--lines', '50000', '--generators', '2', '--sink', 'null', '-q', '--results', {str(tmp_path)!r}])\n")
    script = tmp_path / "threaded.py"
    script.write_text(probe)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr.decode()
    assert delivered(done.stderr, "null") == (50_000, 0)


@pytest.mark.parametrize("lives, method", [(0.01, "fork"), (2.0, "spawn")])
def test_a_native_thread_on_its_way_out_does_not_make_the_run_spawn(lives, method):
    """A library's thread (librdkafka's, after the Kafka check) that ends
    just as the run starts its children leaves the run forking; one that
    lives on makes it spawn. The thread is libc's usleep, started natively
    (Python's threading does not know of it), in a fresh interpreter: the
    suite's own has threads of its plugins."""
    probe = ("import ctypes\n"
             "import harness.cli.main  # as every command does first: numpy's BLAS then starts no threads\n"
             "from harness.run.supervisor import _start_method\n"
             "libc = ctypes.CDLL(None)\n"
             "thread = ctypes.c_ulong()\n"
             f"assert libc.pthread_create(ctypes.byref(thread), None, libc.usleep, ctypes.c_void_p({int(lives * 1e6)})) == 0\n"
             "print(_start_method())\n"
             "libc.pthread_join(thread, None)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == method, done.stderr
