"""One result from the results of a sharded run's shards (`logstorm merge`,
`logstorm run --cluster`), as if one machine had done all the work:

- counts add; each sink's histograms add exactly (one fixed bucket layout,
  so the merged HdrHistogram is the histogram of every line);
- the per-second series adds by wall-clock second from the common start
  (each shard ticks on start_at + k seconds, so its seconds line up): lines
  add, rates are over the second; lag and percentiles of a second are the
  highest of the shards' (an upper bound: a second keeps no histogram);
- each shard's host facts, status and errors are kept under "shards"; a
  shard with no result is "missing", one whose status was not 0 "failed",
  and either makes the merged status 1.

A merged result merges again like a shard's (merging is associative).
Results of different profiles, of different shard counts, with the same
shard twice or with another histogram layout are refused (UserError).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from harness.errors import UserError
from harness.report.histogram import Histogram
from harness.report.results import _add_counts, _merged_sink, _parse_utc, _per_second

# A tick this late still ends the second it was meant to end.
TICK_TOLERANCE = 0.25


def merge(named: Sequence[tuple[str, dict]], nodes: dict[int, str] | None = None) -> dict:
    """The merged result of (name, result) pairs (a name says which file in
    errors); `nodes`: where each shard ran, when the caller knows."""
    if not named:
        raise UserError("nothing to merge: no results")
    _check_same_run(named)
    entries = _entries(named, nodes or {})
    first = named[0][1]
    results = [result for _, result in named]
    common = min(_start(result) for result in results)
    offsets = [_start(result) - common for result in results]
    seconds = max(offset + result["duration_s"] for offset, result in zip(offsets, results))
    totals = {key: sum(result["totals"][key] for result in results) for key in ("generated", "bytes", "failed")}
    totals.update({key: _add_counts(result["totals"][key] for result in results) for key in ("bad", "failed_by_reason")})
    missing = [e["index"] for e in entries if e["state"] == "missing"]
    merged = {key: first[key] for key in ("schema_version", "profile", "seed", "logstorm", "host") if key in first}
    merged.update({
        "started": min(result["started"] for result in results),
        "ended": max(result["ended"] for result in results),
        "duration_s": round(seconds, 3),
        "wall_s": round(max(result.get("wall_s", 0.0) for result in results), 3),
        "status": max([e["status"] or 0 for e in entries] + [1 if missing else 0]),
        "interrupted": any(result["interrupted"] for result in results),
        "errors": [f"shard {e['index']}: {error}" for e in entries for error in e["errors"]]
                  + [f"shard {index}: no result came back" for index in missing],
        "totals": totals,
        "throughput": {"generated_per_s": _per_second(totals["generated"], seconds),
                       "bytes_per_s": _per_second(totals["bytes"], seconds)},
        "sinks": [_merged_sink([result["sinks"][i] for result in results], seconds) for i in range(len(first["sinks"]))],
        "series": _series(results, offsets),
        "shards": entries,
    })
    return merged


def summary(merged: dict) -> list[str]:
    """What a user reads of a merge: the whole, each sink, each error."""
    shards = merged["shards"]
    ok = sum(e["state"] == "ok" for e in shards)
    lines = [f"merge: {len(shards)} shards ({ok} ok): {merged['totals']['generated']:,} lines in {merged['duration_s']:.2f} s "
             f"({merged['throughput']['generated_per_s'] or 0:,.0f} lines/s)"]
    for sink in merged["sinks"]:
        p99 = sink["latency"]["publish"]["p99"]
        latency = f"; latency p99 {p99 / 1000:.2f} ms" if p99 is not None else ""
        lines.append(f"  {sink['name']}: {sink['delivered']:,} delivered, {sink['failed']:,} failed{latency}")
    return lines + [f"merge: error: {error}" for error in merged["errors"]]


def fingerprints(merged: dict) -> list[tuple[int, int] | None]:
    """Per sink, the (count, sum) of the lines every shard delivered, for the
    sink's check of its target (--verify); None for a sink that keeps none."""
    out: list[tuple[int, int] | None] = []
    for s in range(len(merged["sinks"])):
        prints = [e["fingerprints"][s] for e in merged["shards"] if e.get("fingerprints") and e["fingerprints"][s]]
        out.append((sum(p["count"] for p in prints), sum(int(p["sum"], 16) for p in prints) % 2**64) if prints else None)
    return out


def _check_same_run(named: Sequence[tuple[str, dict]]) -> None:
    """Only shards of one run add up to one: one profile (its hash), one seed,
    the same sinks, and histograms of our bucket layout."""
    first_name, first = named[0]
    for name, result in named:
        if result["profile"]["hash"] != first["profile"]["hash"] or result.get("seed") != first.get("seed"):
            raise UserError(f"{name} is of another run than {first_name}: profile {result['profile']['name']} "
                            f"({result['profile']['hash'][:15]}, seed {result.get('seed')}) against "
                            f"{first['profile']['name']} ({first['profile']['hash'][:15]}, seed {first.get('seed')})")
        if [s["name"] for s in result["sinks"]] != [s["name"] for s in first["sinks"]]:
            raise UserError(f"{name} has other sinks than {first_name}")
        if "shard" not in result and "shards" not in result:
            raise UserError(f"{name} is not a shard's result (run with --shard K/N) nor a merged one")
        for sink in result["sinks"]:
            for kind, figures in sink["latency"].items():
                try:
                    Histogram.decode(figures["hdr"])
                except ValueError as error:
                    raise UserError(f"{name}: sink {sink['name']} {kind} latency: {error}") from None


def _entries(named: Sequence[tuple[str, dict]], nodes: dict[int, str]) -> list[dict]:
    """Every shard of the run, by index: those in the results, and those of
    0..N-1 that none holds, as missing."""
    by_index: dict[int, dict] = {}
    counts = set()
    for name, result in named:
        for entry in result.get("shards") or [_entry(result)]:
            counts.add(entry["of"])
            if entry["state"] == "missing":
                by_index.setdefault(entry["index"], entry)
                continue
            if by_index.get(entry["index"], {}).get("state", "missing") != "missing":
                raise UserError(f"{name}: shard {entry['index']} is in more than one of the results")
            by_index[entry["index"]] = entry
    if len(counts) != 1:
        raise UserError(f"the results are shards of runs cut into different numbers of shards: {sorted(counts)}")
    (of,) = counts
    for index in range(of):
        by_index.setdefault(index, {"index": index, "of": of, "state": "missing", "status": None, "node": None, "host": None,
                                    "clock_offset_s": None, "errors": []})
        if index in nodes:
            by_index[index]["node"] = nodes[index]
    return [by_index[index] for index in sorted(by_index)]


def _entry(result: dict) -> dict:
    shard = result["shard"]
    return {"index": shard["index"], "of": shard["of"], "state": "ok" if result["status"] == 0 else "failed",
            "status": result["status"], "node": None, "host": result["host"], "started": result["started"],
            "ended": result["ended"], "generated": result["totals"]["generated"], "start_at": shard["start_at"],
            "clock_offset_s": shard["clock_offset_s"], "fingerprints": shard["fingerprints"], "errors": result["errors"],
            "series": result["series"]}  # the report draws each shard beside the total from the merged file alone


def _start(result: dict) -> float:
    """The result's common start (epoch seconds): its shards' --start-at, else
    its start time."""
    starts = [e["start_at"] for e in result.get("shards") or [_entry(result)] if e.get("start_at")]
    return min(starts) if starts else _parse_utc(result["started"]).timestamp()


def _series(results: list[dict], offsets: list[float]) -> list[dict]:
    """The per-second records added by wall-clock second from the common start."""
    seconds: dict[int, list[dict]] = {}
    for result, offset in zip(results, offsets):
        for record in result["series"]:
            key = max(1, math.ceil(offset + record["t"] - TICK_TOLERANCE))
            seconds.setdefault(key, []).append(record)
    return [_second(key, records) for key, records in sorted(seconds.items())]


def _second(key: int, records: list[dict]) -> dict:
    length = max(r.get("seconds") or 1.0 for r in records)

    def rate(values: list[tuple[float | None, float | None]]) -> float:
        return round(sum((value or 0.0) * (span or 1.0) for value, span in values) / length, 3)

    def highest(values: list) -> Any:
        known = [v for v in values if v is not None]
        return max(known) if known else None

    sinks = []
    for i, first in enumerate(records[0]["sinks"]):
        parts = [r["sinks"][i] for r in records]
        sinks.append({
            "name": first["name"],
            "target": highest([p["target"] for p in parts]),  # every shard's is the whole run's
            "delivered": rate([(p["delivered"], r.get("seconds")) for p, r in zip(parts, records)]),
            "failed": sum(p["failed"] for p in parts),
            "late": sum(p["late"] for p in parts),
            **{key: highest([p[key] for p in parts]) for key in ("lag_s", "p50_us", "p99_us", "p999_us")},
        })
    return {"t": float(key), "seconds": round(length, 3),
            "generated": rate([(r["generated"], r.get("seconds")) for r in records]),
            "ring_fill": highest([r.get("ring_fill") for r in records]), "sinks": sinks}
