"""`logstorm run --cluster ray:ADDRESS --shards 2` on a real two-node Ray
cluster on this machine (ray.cluster_utils.Cluster: each node one CPU, a
`shard` resource, a small object store, 127.0.0.1 given as its address,
its session files in the test's folder). One cluster serves the module
and is shut down whatever happens; afterwards no Ray process is left."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jsonschema
import pytest

from harness.report.histogram import Histogram
from sinks.kafka_options import Options
from sinks.kafka_verify import read_topic
from tests.fixtures.common import ROOT, run_cli

pytestmark = pytest.mark.slow
NODE = {"num_cpus": 1, "resources": {"shard": 1}, "object_store_memory": 75 << 20, "node_ip_address": "127.0.0.1"}
LOOPBACK = re.compile(r"^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]):\d+$")


def parent(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[1])


def descendants(root: int) -> dict[int, str]:
    """Every process below `root`, with its command line."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = parent(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        for child, up in parents.items():
            if up == pid and child not in found:
                try:
                    found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                frontier.append(child)
    return found


def foreign_sockets(pids: set[int]) -> list[str]:
    """TCP sockets of these processes (ss -tnp) with an end that is not loopback."""
    listing = subprocess.run(["ss", "-tnp"], capture_output=True, text=True, timeout=10).stdout.splitlines()[1:]
    out = []
    for line in listing:
        owners = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        fields = line.split()
        if owners & pids and not (LOOPBACK.match(fields[3]) and LOOPBACK.match(fields[4])):
            out.append(line)
    return out


@pytest.fixture(scope="module")
def cluster():
    ray_cluster = pytest.importorskip("ray.cluster_utils")
    # A short folder: Ray's socket paths under it must fit in AF_UNIX's 107
    # bytes, which pytest's own folders (pytest-N/popen-gwK/...) overrun.
    folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    previous = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = str(folder)  # the address file Cluster writes goes here too, not to /tmp/ray
    (folder / "ray").mkdir()
    started = None
    try:
        started = ray_cluster.Cluster(initialize_head=True, head_node_args={**NODE, "temp_dir": str(folder), "include_dashboard": False})
        started.add_node(**NODE)
        started.wait_for_nodes()
        started.folder = folder
        yield started
    finally:
        if started is not None:
            started.shutdown()
        if previous is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = previous
        deadline = time.monotonic() + 15
        while (left := {p: c for p, c in descendants(os.getpid()).items() if "ray" in c}) and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(folder, ignore_errors=True)
        assert left == {}, "Ray processes outlived the cluster"


def coordinator(cluster, tmp_path: Path, *flags: str, placed: bool = True) -> subprocess.Popen:
    """`logstorm run FLAGS`, on the cluster by --cluster and --shards unless not `placed` (a profile's [cluster] says)."""
    where = ["--cluster", f"ray:{cluster.address}", "--shards", "2"] if placed else []
    command = [sys.executable, "-m", "harness", "run", *flags, *where, "--results", str(tmp_path / "results")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_TMPDIR": str(cluster.folder)}
    return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def wait_for_second(process: subprocess.Popen, seen: list[bytes], deadline: float = 90) -> None:
    """Read the coordinator's stderr until its first per-second line."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        line = process.stderr.readline()
        seen.append(line)
        assert line, b"".join(seen).decode()
        if line.startswith(b"["):
            return
    raise AssertionError(b"".join(seen).decode())


def results(tmp_path: Path, name: str = "adhoc") -> tuple[dict, list[dict]]:
    (merged,) = (tmp_path / "results" / name).glob("*.json")
    parts = [json.loads(p.read_bytes()) for p in (tmp_path / "results" / f"{name}-shards").glob("*.json")]
    return json.loads(merged.read_bytes()), parts


def shard_processes() -> dict[int, str]:
    return {pid: c for pid, c in descendants(os.getpid()).items() if "--shard" in c or "ShardProcess" in c}


def test_two_shards_on_two_nodes_add_up_to_one_run(cluster, tmp_path, kafka_broker, topic):
    lines = 6 * 4096 + 300
    (tmp_path / "two.toml").write_text(f"""[profile]
description = "two sinks, verified"

[load]
lines = {lines}
seed = 13
rate = 20000

[[sinks]]
name = "null"

[[sinks]]
name = "kafka"
broker = "embedded"
topic = "{topic}"
verify = true
""")
    # A profile file travels with the shards; --broker points its kafka sink at the test's broker.
    process = coordinator(cluster, tmp_path, str(tmp_path / "two.toml"), "--broker", kafka_broker.bootstrap)
    foreign, pids = [], set()
    try:
        while process.poll() is None:  # sample the sockets of every process of the run while it runs
            pids = {os.getpid(), *descendants(os.getpid())}
            foreign += foreign_sockets(pids)
            time.sleep(0.5)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err.decode()
    assert foreign == [] and len(pids) > 10
    assert f"verified: all {lines:,} delivered lines are in {topic} exactly once".encode() in err
    merged, parts = results(tmp_path, "two")
    jsonschema.validate(merged, json.loads((ROOT / "results" / "schema.json").read_text()))
    assert len({entry["node"] for entry in merged["shards"]}) == 2
    assert merged["totals"]["generated"] == lines == sum(p["totals"]["generated"] for p in parts)
    assert [s["delivered"] for s in merged["sinks"]] == [lines, lines]
    for i in range(2):
        total = Histogram()
        for part in parts:
            total.add(Histogram.decode(part["sinks"][i]["latency"]["publish"]["hdr"]))
        assert Histogram.decode(merged["sinks"][i]["latency"]["publish"]["hdr"]) == total
    in_topic = sorted(value for _, _, value, _ in read_topic(Options(brokers=(kafka_broker.bootstrap,), topic=topic)))
    assert in_topic == sorted(run_cli("generate", "-i", str(lines), "-s", "13", "-q").stdout.splitlines())
    assert list(cluster.folder.glob("session_*")), "Ray's session files are in the test's folder"


def test_ctrl_c_stops_every_shard_and_still_merges(cluster, tmp_path):
    (tmp_path / "long.toml").write_text(f"""[profile]
description = "two minutes, paced"

[load]
duration = 120
rate = 3000
seed = 5

[[sinks]]
name = "null"

[cluster]
address = "{cluster.address}"
shards = 2
""")
    process = coordinator(cluster, tmp_path, str(tmp_path / "long.toml"), placed=False)  # its [cluster] table places it
    seen: list[bytes] = []
    try:
        wait_for_second(process, seen)
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=90)
    finally:
        process.kill()
    stderr = b"".join(seen) + err
    assert process.returncode == 0, stderr.decode()
    assert re.search(rb"\| shard 0 @ \S+ \(127\.0\.0\.1\) [\d,]+/s, shard 1 @ \S+ \(127\.0\.0\.1\) [\d,]+/s", seen[-1])  # the sum, and each shard
    merged, parts = results(tmp_path, "long")
    assert merged["interrupted"] and [e["state"] for e in merged["shards"]] == ["ok", "ok"]
    assert all(p["interrupted"] for p in parts)
    generated = merged["totals"]["generated"]
    assert 0 < generated == merged["sinks"][0]["delivered"] == sum(e["generated"] for e in merged["shards"])
    assert generated < 120 * 3000
    deadline = time.monotonic() + 10
    while shard_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shard_processes() == {}


def test_a_killed_shard_fails_the_run_naming_it_and_stops_the_other(cluster, tmp_path):
    process = coordinator(cluster, tmp_path, "--duration", "120", "--rate", "3000", "--seed", "6", "--sink", "null")
    seen: list[bytes] = []
    try:
        wait_for_second(process, seen)
        shard_1 = {pid for pid, c in shard_processes().items() if "--shard 1/2" in c and "harness run" in c}
        (victim,) = [pid for pid in shard_1 if parent(pid) not in shard_1]  # its supervisor, not a child it forked
        os.kill(victim, signal.SIGKILL)
        out, err = process.communicate(timeout=90)
    finally:
        process.kill()
    stderr = (b"".join(seen) + err).decode()
    assert process.returncode == 1, stderr
    assert re.search(r"error: shard 1 on node \S+ \(127\.0\.0\.1\): its logstorm run ended by signal 9", stderr)
    merged, _ = results(tmp_path)
    assert [e["state"] for e in merged["shards"]] == ["ok", "missing"]
    assert any(error.startswith("shard 1 on node") for error in merged["errors"])
    assert merged["totals"]["generated"] < 120 * 3000  # the other shard was stopped, not run to its end
    assert shard_processes() == {}


def test_an_embedded_broker_on_more_than_one_node_is_refused_at_start(cluster, tmp_path):
    process = coordinator(cluster, tmp_path, "--lines", "1000", "--sink", "kafka")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.count(b"\n") == 1 and b"--broker embedded" in err and b"Traceback" not in err
