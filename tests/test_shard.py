"""`logstorm run --shard K/N --start-at T`: a shard is an ordinary run with a
slice of the work. Together the shards make exactly the lines of one
unsharded run of the same seed; each waits for the common start and paces
its lines by their run-wide numbers, in phase with the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.common import ROOT, run_cli
from tests.test_run import delivered, file_lines

BATCH = 4096  # generators.factory.BATCH_LINES


def shard_command(k: int, n: int, *flags: str) -> list[str]:
    return [sys.executable, "-m", "harness", "run", "--shard", f"{k}/{n}", "-q", *flags]


def run_shards(n: int, flags: list[str], folder: Path, start_in: float = 1.5) -> list[subprocess.CompletedProcess]:
    """The N shards at once, as an engine would start them: same flags, one common start."""
    start = f"{time.time() + start_in:.3f}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen(shard_command(k, n, *flags, "--start-at", start, "--results", str(folder)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT) for k in range(n)]
    done = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def test_shards_together_make_exactly_the_lines_of_one_run(tmp_path):
    lines = 7 * BATCH + 1328  # 8 batches, the last one short
    flags = ["--lines", str(lines), "--seed", "11", "--sink", "file", "--path", str(tmp_path / "out"), "-g", "2"]
    shards = run_shards(3, flags, tmp_path / "results")
    whole = run_cli("generate", "-i", str(lines), "-s", "11", "-q")
    for k, shard in enumerate(shards):
        assert shard.returncode == 0, shard.stderr
        mine = [b for b in range(8) if b % 3 == k]
        assert delivered(shard.stderr, "filesystem") == (sum(BATCH if b < 7 else 1328 for b in mine), 0)
    assert sorted(file_lines(tmp_path / "out")) == sorted(whole.stdout.splitlines(keepends=True))
    results = [json.loads(p.read_bytes()) for p in sorted((tmp_path / "results" / "adhoc").glob("*.json"))]
    assert sorted(r["shard"]["index"] for r in results) == [0, 1, 2]
    assert {r["shard"]["of"] for r in results} == {3}
    assert len({r["profile"]["hash"] for r in results}) == 1  # --shard and --start-at are not part of what the run is


def test_a_paced_shard_waits_for_the_start_and_sends_its_lines_when_they_are_due(tmp_path):
    """Shard 1 of 2 at 20,000 lines/s holds lines 4096..8191 and 12288..16383:
    its first line is due 4096 / 20,000 s after the common start, never sooner."""
    start = round(time.time() + 1.5, 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(shard_command(1, 2, "--lines", str(4 * BATCH), "--rate", "20000", "--seed", "3", "--sink", "stdout",
                                             "--start-at", f"{start:.3f}"),
                               stdout=subprocess.PIPE, stderr=(tmp_path / "stderr").open("wb"), env=env, cwd=ROOT)
    try:
        first = process.stdout.readline()
        arrived = time.time()
        rest = process.stdout.read()
        process.wait(60)
    finally:
        process.kill()
    assert process.returncode == 0, (tmp_path / "stderr").read_text()
    assert first and arrived >= start + BATCH / 20000
    assert len(rest.splitlines()) + 1 == 2 * BATCH


def test_a_shard_result_records_the_shard_and_its_start(tmp_path):
    (shard,) = run_shards(1, ["--lines", "1000", "--seed", "2", "--sink", "null"], tmp_path, start_in=0.5)
    assert shard.returncode == 0, shard.stderr
    (path,) = (tmp_path / "adhoc").glob("*.json")
    result = json.loads(path.read_bytes())
    assert result["shard"]["index"] == 0 and result["shard"]["of"] == 1
    assert result["shard"]["start_at"] == pytest.approx(float(shard.args[shard.args.index("--start-at") + 1]))


def test_the_seconds_of_a_shard_tick_on_the_common_start(tmp_path):
    """Records end at start_at + k s (not the last tick + 1 s), so shards' seconds line up."""
    (shard,) = run_shards(1, ["--lines", "0", "--duration", "5.5", "--rate", "1000", "--seed", "2", "--sink", "null"], tmp_path,
                          start_in=2)
    assert shard.returncode == 0, shard.stderr
    (path,) = (tmp_path / "adhoc").glob("*.json")
    # The first record may cover a late start, the last ends with the run: the others
    # end each on a whole second, a late tick not making the next one later.
    ticks = [record["t"] for record in json.loads(path.read_bytes())["series"]][1:-1]
    assert len(ticks) >= 2
    assert all(abs(t - round(t)) < 0.45 for t in ticks)
    assert [round(t) for t in ticks] == list(range(round(ticks[0]), round(ticks[0]) + len(ticks)))


@pytest.mark.parametrize("value", ["2/2", "1", "-1/2", "a/b", "0/0"])
def test_a_bad_shard_is_one_line_naming_it(value):
    result = run_cli("run", "--lines", "10", "--shard", value)
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1 and b"--shard" in result.stderr and b"Traceback" not in result.stderr


@pytest.mark.parametrize("flags, culprit", [
    (["--cluster", "dask", "--shards", "2"], b"--cluster dask"),
    (["--cluster", "ray:nohost", "--shards", "2"], b"not HOST:PORT"),
    (["--cluster", "ray:127.0.0.1:1", "--shards", "2"], b"cannot reach the Ray cluster at 127.0.0.1:1"),
    (["--cluster", "ray:127.0.0.1:1", "--shard", "0/2"], b"--shard and --cluster"),
])
def test_a_bad_cluster_is_one_line_naming_it(flags, culprit):
    result = run_cli("run", "--lines", "10", *flags)
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1 and culprit in result.stderr and b"Traceback" not in result.stderr


@pytest.mark.parametrize("table, culprit", [
    ('engine = "dask"', b":11: [cluster] engine 'dask' is not one of ray"),
    ("shardz = 2", b":11: unknown key 'shardz' in [cluster]"),
    ("shards = 0", b":11: [cluster] shards"),
    ('address = "127.0.0.1:1"', b"cannot reach the Ray cluster at 127.0.0.1:1"),
])
def test_a_bad_cluster_table_is_one_line_naming_it(tmp_path, table, culprit):
    profile = tmp_path / "p.toml"
    profile.write_text(f'[profile]\ndescription = "x"\n\n[load]\nlines = 10\n\n[[sinks]]\nname = "null"\n\n[cluster]\n{table}\n')
    result = run_cli("run", str(profile))
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1 and culprit in result.stderr and b"Traceback" not in result.stderr


def test_a_shard_of_a_profile_with_a_cluster_table_runs_where_it_is(tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('[profile]\ndescription = "x"\n\n[load]\nlines = 10\n\n[[sinks]]\nname = "null"\n\n'
                       '[cluster]\naddress = "127.0.0.1:1"\n')
    result = run_cli("run", str(profile), "--shard", "0/1", "--results", str(tmp_path))
    assert result.returncode == 0, result.stderr
