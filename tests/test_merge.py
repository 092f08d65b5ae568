"""`logstorm merge`: the shards' results of one run become one result, exact:
counts add, histograms add, the per-second series adds by wall-clock
second; missing or failed shards are marked (exit 1); results that are not
of one run are refused (exit 2)."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

import jsonschema
import pytest

from harness.report.histogram import Histogram
from harness.report.merge import merge
from tests.fixtures.common import ROOT, run_cli
from tests.test_shard import run_shards

LINES = 3 * 4096 + 500  # four batches over three shards: 2, 1 and 1 of them
SCHEMA = json.loads((ROOT / "results" / "schema.json").read_text())


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> list[Path]:
    """The result files of a real 3-shard run, paced so that it lasts a few seconds."""
    folder = tmp_path_factory.mktemp("shards")
    done = run_shards(3, ["--lines", str(LINES), "--rate", "6000", "--seed", "9", "--sink", "null"], folder)
    assert [d.returncode for d in done] == [0, 0, 0], [d.stderr for d in done]
    return sorted((folder / "adhoc").glob("*.json"), key=lambda path: load(path)["shard"]["index"])


def load(path: Path) -> dict:
    return json.loads(path.read_bytes())


def histogram(result: dict) -> Histogram:
    return Histogram.decode(result["sinks"][0]["latency"]["publish"]["hdr"])


def merged_file(tmp_path: Path, *paths: Path) -> tuple[int, dict | None, bytes]:
    out = tmp_path / "merged.json"
    done = run_cli("merge", *map(str, paths), "-o", str(out))
    return done.returncode, (load(out) if out.exists() else None), done.stderr


def test_merged_counts_and_histograms_are_the_sums_of_the_shards(shards, tmp_path):
    status, merged, stderr = merged_file(tmp_path, *shards)
    assert status == 0, stderr
    parts = [load(p) for p in shards]
    assert merged["totals"]["generated"] == sum(p["totals"]["generated"] for p in parts) == LINES
    assert merged["sinks"][0]["delivered"] == LINES and merged["sinks"][0]["failed"] == 0
    total = Histogram()
    for part in parts:
        total.add(histogram(part))
    assert histogram(merged) == total and total.total_count == LINES
    assert [e["index"] for e in merged["shards"]] == [0, 1, 2] and {e["state"] for e in merged["shards"]} == {"ok"}
    assert all(e["host"]["hostname"] for e in merged["shards"])
    jsonschema.validate(merged, SCHEMA)


def test_the_series_adds_by_second_from_the_common_start(shards, tmp_path):
    _, merged, _ = merged_file(tmp_path, *shards)
    seconds = [record["t"] for record in merged["series"]]
    assert seconds == sorted(set(seconds)) and all(t == int(t) for t in seconds)
    lines = sum(record["generated"] * record["seconds"] for record in merged["series"])
    assert lines == pytest.approx(sum(r["generated"] * r["seconds"] for p in shards for r in load(p)["series"]), abs=1)
    late = sum(record["sinks"][0]["late"] for record in merged["series"])
    assert late == sum(record["sinks"][0]["late"] for p in shards for record in load(p)["series"])


def test_merging_is_associative(shards):
    a, b, c = [(p.name, load(p)) for p in shards]
    once = merge([a, b, c])
    left = merge([("ab", merge([a, b])), c])
    right = merge([a, ("bc", merge([b, c]))])
    for other in (left, right):
        for key in ("totals", "sinks", "shards", "status", "errors", "duration_s"):
            assert other[key] == once[key], key
        # Rates in the series are floats (lines over the second), equal up to rounding.
        assert [{**r, "generated": pytest.approx(r["generated"], abs=0.01), "sinks": None} for r in other["series"]] == \
            [{**r, "sinks": None} for r in once["series"]]


def test_a_missing_shard_is_marked_and_the_merge_exits_1(shards, tmp_path):
    status, merged, stderr = merged_file(tmp_path, shards[0], shards[2])
    assert status == 1
    assert [e["state"] for e in merged["shards"]] == ["ok", "missing", "ok"]
    assert b"shard 1: no result came back" in stderr
    jsonschema.validate(merged, SCHEMA)


def test_a_failed_shard_is_marked_and_the_merge_exits_1(shards, tmp_path):
    failed = load(shards[1]) | {"status": 1, "errors": ["producer null.0: killed by signal 9"]}
    (tmp_path / "failed.json").write_text(json.dumps(failed))
    status, merged, stderr = merged_file(tmp_path, shards[0], tmp_path / "failed.json", shards[2])
    assert status == 1 and merged["shards"][1]["state"] == "failed"
    assert b"shard 1: producer null.0: killed by signal 9" in stderr


def refused(tmp_path: Path, *paths: Path) -> bytes:
    status, merged, stderr = merged_file(tmp_path, *paths)
    assert status == 2 and merged is None
    assert stderr.count(b"\n") == 1 and b"Traceback" not in stderr
    return stderr


def test_results_of_another_profile_are_refused(shards, tmp_path):
    other = load(shards[1])
    other["profile"]["hash"] = "sha256:" + "0" * 64
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert b"other.json is of another run" in refused(tmp_path, shards[0], tmp_path / "other.json")


def test_histograms_of_another_bucket_layout_are_refused(shards, tmp_path):
    other = load(shards[1])
    sink = other["sinks"][0]["latency"]["publish"]
    sink["hdr"] = two_digit_copy(sink["hdr"])
    (tmp_path / "layout.json").write_text(json.dumps(other))
    assert b"differs from ours" in refused(tmp_path, shards[0], tmp_path / "layout.json")


def test_the_same_shard_twice_is_refused(shards, tmp_path):
    assert b"shard 0 is in more than one" in refused(tmp_path, shards[0], shards[0])


def test_compare_reads_a_merged_result(shards, tmp_path):
    _, merged, _ = merged_file(tmp_path, *shards)
    done = run_cli("compare", str(tmp_path / "merged.json"), str(tmp_path / "merged.json"))
    assert done.returncode == 0, done.stderr
    assert b"throughput" in done.stdout


def two_digit_copy(text: str) -> str:
    """The same HdrHistogram, its header saying 2 significant digits (another bucket layout)."""
    raw = base64.b64decode(text)
    payload = bytearray(zlib.decompress(raw[8:]))
    struct.pack_into(">i", payload, 12, 2)  # cookie, length, offset, then the significant digits
    compressed = zlib.compress(bytes(payload))
    return base64.b64encode(raw[:4] + struct.pack(">i", len(compressed)) + compressed).decode()


def second(t: float, rate: float, total: int) -> dict:
    """A shard's per-second record, in the metrics role's shape, for the null sink."""
    sink = {"name": "null", "target": 2000.0, "sent": rate, "delivered": rate, "failed": 0, "late": 1, "delivered_total": total,
            "failed_total": 0, "span_s": t, "lag_s": 0.001, "p50_us": 800, "p99_us": 2000, "p999_us": 3000}
    return {"t": t, "seconds": 1.0, "generated": rate, "generated_total": total,
            "generators": [{"name": "generator-0", "rate": rate, "ring_fill": 0.25}], "bad": {}, "sinks": [sink]}


def test_the_live_view_shows_a_second_once_every_running_shard_has_it():
    from harness.cluster.live import LiveSeconds

    live = LiveSeconds(["shard 0 @ a", "shard 1 @ b"])
    live.add(0, second(1.002, 1000, 1000))
    assert live.ready({0, 1}) == []  # shard 1 has not reported its first second yet
    live.add(1, second(1.004, 900, 900))
    (shown,) = live.ready({0, 1})
    assert shown["t"] == 1.0 and shown["generated"] == 1900 and shown["generated_total"] == 1900
    assert shown["sinks"][0]["delivered"] == 1900 and shown["sinks"][0]["late"] == 2 and shown["sinks"][0]["target"] == 2000.0
    assert [(g["name"], g["rate"]) for g in shown["generators"]] == [("shard 0 @ a", 1000), ("shard 1 @ b", 900)]
    live.add(0, second(2.001, 1000, 2000))  # shard 1 has ended: its seconds no longer wait
    (shown,) = live.ready({0})
    assert shown["generated"] == 1000 and shown["generated_total"] == 2900 and shown["generators"][1]["rate"] == 0.0
