"""The Kubernetes Indexed Job of docs/kubernetes.md, played on one machine:
the manifest rendered with the doc's own commands, the shard container's
command started once per completion index with the pod's environment (its
volumes as folders), the merge Job's command beside them; then the merged
result and the broker's topic are checked against one unsharded run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import yaml

from sinks.kafka_options import Options
from sinks.kafka_verify import read_topic
from tests.fixtures.common import ROOT, run_cli

DOC = ROOT / "docs" / "kubernetes.md"
MANIFEST = ROOT / "deploy" / "kubernetes" / "logstorm-job.yaml"
LINES = 5 * 4096 + 77


def render(tmp_path: Path, margin: int) -> tuple[list[dict], str]:
    """The doc's ```sh block, run as written from a copy of the repository's deploy/."""
    (block,) = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    done = subprocess.run(["bash", "-euc", block], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "MARGIN": str(margin)})
    assert done.returncode == 0, done.stderr
    return list(yaml.safe_load_all((tmp_path / "logstorm-job.rendered.yaml").read_text())), done.stdout.strip()


def pod(job: dict, tmp_path: Path, index: int | None, env: dict) -> subprocess.Popen:
    """One pod of `job` as a process: its container's command and environment,
    each volume mount a folder of the test."""
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    command = [*container["command"], *container["args"]]
    for mount in container["volumeMounts"]:
        command[-1] = command[-1].replace(mount["mountPath"] + "/", f"{tmp_path / mount['name']}/")
    pod_env = {**os.environ, "PYTHONPATH": str(ROOT), **{e["name"]: e["value"] for e in container["env"]}, **env}
    if index is not None:
        pod_env["JOB_COMPLETION_INDEX"] = str(index)
    return subprocess.Popen(command, env=pod_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_the_manifest_is_an_indexed_job_spread_over_nodes_then_a_merge(tmp_path):
    (shards, merge), _ = render(tmp_path, 90)
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert int(env["SHARDS"]) == spec["completions"]
    assert "--shard \"$JOB_COMPLETION_INDEX/$SHARDS\"" in container["args"][0]
    (spread,) = spec["template"]["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname" and spread["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["labelSelector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert "logstorm merge" in merge["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "@START_AT@" not in (tmp_path / "logstorm-job.rendered.yaml").read_text()


def test_the_job_played_locally_gives_one_exact_merged_result(tmp_path, kafka_broker, topic):
    (shards, merge), run = render(tmp_path, 6)
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "profile.toml").write_text(  # what the ConfigMap holds
        f'[profile]\ndescription = "the Job test"\n\n[load]\nformat = "apache"\nlines = {LINES}\nseed = 21\n\n[[sinks]]\nname = "kafka"\nbroker = "embedded"\ntopic = "{topic}"\n')
    env = {"BROKER": kafka_broker.bootstrap}
    count = shards["spec"]["completions"]
    pods = [pod(shards, tmp_path, k, env) for k in range(count)]
    merger = pod(merge, tmp_path, None, {"WAIT_SECONDS": "120"})
    try:
        outs = [p.communicate(timeout=180) for p in pods]
        assert [p.returncode for p in pods] == [0] * count, [err.decode() for _, err in outs]
        merged_out = merger.communicate(timeout=180)
    finally:
        for p in [*pods, merger]:
            p.kill()
            p.wait()
    assert merger.returncode == 0, merged_out[1].decode()
    merged = json.loads((tmp_path / "results" / run / "merged.json").read_bytes())
    assert [e["state"] for e in merged["shards"]] == ["ok"] * count
    assert merged["totals"]["generated"] == merged["sinks"][0]["delivered"] == LINES
    jsonschema.validate(merged, json.loads((ROOT / "results" / "schema.json").read_text()))
    in_topic = sorted(value for _, _, value, _ in read_topic(Options(brokers=(kafka_broker.bootstrap,), topic=topic)))
    whole = run_cli("generate", "-i", str(LINES), "-s", "21", "-q").stdout.splitlines()
    assert in_topic == sorted(whole)
