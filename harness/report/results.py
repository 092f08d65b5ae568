"""Result files: what a run did, as one JSON document that a later run is
compared with (harness/report/compare.py). results/schema.json describes it.

    results/<profile>/<NNNN>_<YYYYmmddTHHMMSSZ>.json
    {"schema_version": 1,
     "profile": {"name", "hash": "sha256:...", "resolved": {... secrets "***"}},
     "seed", "logstorm": {"version", "commit", "dirty"}, "host": {...},
     "started", "ended" (UTC), "duration_s" (the common start to the last
     delivery: rates are over it), "wall_s" (set-up and stopping too),
     "status", "interrupted", "errors",
     "totals": {"generated", "bytes", "bad": {kind: n}, "failed", "failed_by_reason"},
     "throughput": {"generated_per_s", "bytes_per_s"},
     "sinks": [{"name", "sent", "delivered", "failed", "late", "unsent", "in_doubt",
                "lost_by_reason": {"unsent: REASON" | "in doubt: REASON": n}, "delivered_per_s",
                "latency": {"publish": LATENCY, "e2e": LATENCY (when measured)}}],
     "series": [{"t", "seconds", "generated", "ring_fill",
                 "sinks": [{"name", "target", "delivered", "failed", "late", "lag_s",
                            "p50_us", "p99_us", "p999_us"}], "repeat" (combined files)}],
     "repeats": [per-repetition summaries] (combined files), "extra": {...},
     "thresholds": [{"name", "condition", "sink", "value", "limit", "unit", "passed", "message"}]
                   (when the run had thresholds: harness/report/thresholds.py judges them on this file)}

    LATENCY = {"hdr", "count", "clamped", "p50", "p90", "p99", "p99_9", "p99_99", "max", "mean"}

Latencies are integer microseconds; "hdr" is the whole histogram in
HdrHistogram's V2 compressed base64 form, so runs merge exactly and other
HdrHistogram tools read it. orjson refuses NaN and infinity: any that reach
a result become null (so does every percentile of an empty histogram).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import orjson

from harness import __version__
from harness.errors import UserError
from harness.report.checkout import checkout_commit
from harness.report.histogram import Histogram
from harness.report.hostinfo import host

SCHEMA_VERSION = 1
MASK = "***"
SECRET_KEY = re.compile(r"password|passwd|secret|token|sasl.*pass|aws_secret|sasl\.jaas\.config|credentials"
                        r"|private.?key|api.?key|ssl\.key\.pem", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(://[^/:@\s]+:)[^@\s/]+@")  # scheme://user:PASSWORD@host
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99_9", 99.9), ("p99_99", 99.99))
# What one repetition contributes to a combined file's "repeats".
RUN_KEYS = ("started", "ended", "duration_s", "wall_s", "status", "interrupted", "errors", "seed", "totals", "throughput", "sinks")
NAME = re.compile(r"(\d{4,})_.*\.json$")


def redact(value: Any) -> Any:
    """`value` with every secret replaced by "***": values under a key that
    looks secret, `key=value` settings (-e) and [key, value] pairs whose key
    does, and passwords inside URLs."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and isinstance(value[0], str) and "=" not in value[0] and SECRET_KEY.search(value[0]):
            return [value[0], MASK]
        return [redact(v) for v in value]
    if isinstance(value, str):
        key, sep, _ = value.partition("=")
        if sep and SECRET_KEY.search(key):
            return f"{key}={MASK}"
        return URL_PASSWORD.sub(rf"\g<1>{MASK}@", value)
    return value


def plain(value: Any) -> Any:
    """A JSON-able copy: tuples become lists, keys strings, dates ISO text,
    NaN and infinities None. Anything else unknown becomes its text, so a
    long run never loses its result file to one odd value."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return plain(value.item())
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    return str(value)


def profile_hash(profile: dict) -> str:
    """sha256 of the canonical JSON (secrets removed, keys sorted) of what
    the run measured: a profile's load and sinks (not its name, description,
    repeat, results folder or thresholds), a run from flags' flags."""
    measured = {key: value for key, value in profile.items() if key not in ("name", "profile", "thresholds")}
    canonical = orjson.dumps(plain(redact(measured)), option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def latency(histogram: Histogram) -> dict:
    """Percentiles (integer us, None when empty) and the encoded histogram."""
    count = histogram.total_count
    figures = {key: histogram.percentile(p) if count else None for key, p in PERCENTILES}
    return {"hdr": histogram.encode(), "count": count, "clamped": histogram.clamped, **figures,
            "max": histogram.max if count else None, "mean": round(histogram.mean) if count else None}


def build_result(profile_name: str, profile: dict, outcome: Any, spec: Any, extra: dict | None = None, *,
                 ended: dt.datetime | None = None) -> dict:
    """The result of one run, from what supervise() returned. Call it right
    after the run: `ended` (default now) less the run's wall time (or its span,
    if longer or the wall time unknown) is its start."""
    ended = ended or dt.datetime.now(dt.timezone.utc)
    seconds = outcome.seconds
    totals = outcome.totals
    sanitized = plain(redact(profile))
    result = {
        "schema_version": SCHEMA_VERSION,
        "profile": {"name": profile_name, "hash": profile_hash(profile), "resolved": sanitized},
        "seed": getattr(spec.source, "seed", None),
        "logstorm": {"version": __version__, **checkout_commit()},
        "host": host(kafka=any("kafka" in target.module for target in spec.sinks)),
        "started": _utc(ended - dt.timedelta(seconds=max(seconds, outcome.wall_seconds))),
        "ended": _utc(ended),
        "duration_s": round(seconds, 3),
        "wall_s": round(outcome.wall_seconds, 3),
        "status": outcome.status,
        "interrupted": outcome.interrupted,
        "errors": list(outcome.errors),
        "totals": {"generated": totals.generated, "bytes": totals.bytes, "bad": dict(totals.bad),
                   "failed": totals.failed, "failed_by_reason": dict(outcome.failures)},
        "throughput": {"generated_per_s": _per_second(totals.generated, seconds),
                       "bytes_per_s": _per_second(totals.bytes, seconds)},
        "sinks": [_sink(sink, seconds) for sink in totals.sinks],
        "series": [_second(record) for record in outcome.series],
    }
    if getattr(outcome, "read_back", None):
        result["read_back"] = outcome.read_back
    if extra:
        result["extra"] = redact(extra)
    if spec.shards > 1 or spec.start_at is not None:
        result["shard"] = _shard(spec, outcome)
    return plain(result)


def _shard(spec: Any, outcome: Any) -> dict:
    """Which part of a sharded run this was: its index of how many, the common
    start, and per sink the (count, sum) fingerprint of what it delivered
    (for a --verify on the merge), "sum" as 16 hex digits."""
    prints = []
    for s in range(len(spec.sinks)):
        own = [f for f in outcome.fingerprints.get(s, []) if f]
        prints.append({"count": sum(c for c, _ in own), "sum": f"{sum(t for _, t in own) % 2**64:016x}"} if own else None)
    return {"index": spec.shard, "of": spec.shards, "start_at": spec.start_at, "clock_offset_s": None, "fingerprints": prints}


def _sink(sink: Any, seconds: float) -> dict:
    figures = {"publish": latency(sink.publish)}
    e2e = getattr(sink, "e2e", None)
    if e2e is not None and e2e.total_count:
        figures["e2e"] = latency(e2e)
    return {"name": sink.name, "sent": sink.sent, "delivered": sink.delivered, "failed": sink.failed, "late": sink.late,
            "unsent": sink.unsent, "in_doubt": sink.in_doubt, "lost_by_reason": _lost_by_reason(sink),
            "delivered_per_s": _per_second(sink.delivered, seconds), "latency": figures,
            **({"acknowledged": False} if getattr(sink, "unacknowledged", False) else {})}


def _lost_by_reason(sink: Any) -> dict[str, int]:
    """Why lines were neither delivered nor failed: {"unsent: REASON": n, "in doubt: REASON": n}."""
    return {f"{kind}: {reason}": count for kind, count, reason in sink.lost()}


def _second(record: dict) -> dict:
    """One per-second record of the metrics role (metrics.interval_record), trimmed to what a result keeps."""
    fills = [g["ring_fill"] for g in record.get("generators", ())]
    return {
        "t": record["t"],
        "seconds": record.get("seconds"),
        "generated": _round(record["generated"]),
        "ring_fill": round(max(fills), 4) if fills else record.get("ring_fill"),
        "ring_fills": [round(fill, 4) for fill in fills],
        "sinks": [{"name": s["name"], "target": s["target"], "delivered": _round(s["delivered"]), "failed": s["failed"],
                   "late": s["late"], "lag_s": s["lag_s"], **{key: s.get(key) for key in ("p50_us", "p99_us", "p999_us", "max_us")}}
                  for s in record["sinks"]],
    }


def build_repeated(results: list[dict]) -> dict:
    """One file from several repetitions of one profile: totals added up,
    histograms merged (so the percentiles are those of all lines), the
    series of all (each record marked with its "repeat"), and each
    repetition's own figures under "repeats". Results that are already
    combined contribute their repetitions. ValueError when the results come
    from different profiles or sinks."""
    if not results:
        raise ValueError("no results to combine")
    first = results[0]
    for result in results[1:]:
        if result["profile"]["hash"] != first["profile"]["hash"]:
            raise ValueError(f"results of different profiles: {first['profile']['name']} ({first['profile']['hash'][:15]}) "
                             f"and {result['profile']['name']} ({result['profile']['hash'][:15]})")
        if [s["name"] for s in result["sinks"]] != [s["name"] for s in first["sinks"]]:
            raise ValueError("results with different sinks cannot be combined")
    runs: list[dict] = []
    series: list[dict] = []
    for result in results:
        own = result.get("repeats") or [{key: result[key] for key in RUN_KEYS if key in result}]
        for record in result["series"]:
            series.append({**record, "repeat": len(runs) + record.get("repeat", 0)})
        runs.extend(own)
    seconds = sum(run["duration_s"] for run in runs)
    generated = sum(run["totals"]["generated"] for run in runs)
    size = sum(run["totals"]["bytes"] for run in runs)
    combined = {key: first[key] for key in ("schema_version", "profile", "seed", "logstorm", "host") if key in first}
    combined.update({
        "started": min(run["started"] for run in runs),
        "ended": max(run["ended"] for run in runs),
        "duration_s": round(seconds, 3),
        "wall_s": round(sum(run.get("wall_s", 0.0) for run in runs), 3),
        "status": max(run["status"] for run in runs),
        "interrupted": any(run["interrupted"] for run in runs),
        "errors": [f"repeat {i}: {error}" for i, run in enumerate(runs) for error in run["errors"]],
        "totals": {"generated": generated, "bytes": size,
                   "bad": _add_counts(run["totals"]["bad"] for run in runs),
                   "failed": sum(run["totals"]["failed"] for run in runs),
                   "failed_by_reason": _add_counts(run["totals"]["failed_by_reason"] for run in runs)},
        "throughput": {"generated_per_s": _per_second(generated, seconds), "bytes_per_s": _per_second(size, seconds)},
        "sinks": [_merged_sink([run["sinks"][i] for run in runs], seconds) for i in range(len(first["sinks"]))],
        "series": series,
        "repeats": runs,
    })
    if "extra" in first:
        combined["extra"] = first["extra"]
    return combined


def _merged_sink(sinks: list[dict], seconds: float) -> dict:
    counts = {key: sum(s.get(key, 0) for s in sinks) for key in ("sent", "delivered", "failed", "late", "unsent", "in_doubt")}
    counts["lost_by_reason"] = _add_counts(s.get("lost_by_reason", {}) for s in sinks)
    figures = {}
    for kind in ("publish", "e2e"):
        measured = [s["latency"][kind]["hdr"] for s in sinks if kind in s["latency"]]
        if measured:
            merged = Histogram()
            for text in measured:
                merged.add(Histogram.decode(text))
            figures[kind] = latency(merged)
    return {"name": sinks[0]["name"], **counts, "delivered_per_s": _per_second(counts["delivered"], seconds), "latency": figures}


def _add_counts(dicts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in dicts:
        for key, n in counts.items():
            total[key] = total.get(key, 0) + n
    return total


def check_result_folder(folder: str | Path, profile_name: str) -> None:
    """Before a run: create the folder its result goes to, and write and
    remove a probe file there, so a folder we cannot write fails at once
    and not after the whole benchmark."""
    target = _result_folder(folder, profile_name)
    with _writing(target):
        target.mkdir(parents=True, exist_ok=True)
        probe = target / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()


def write_result(result: dict, folder: str | Path, profile_name: str) -> Path:
    """Write `result` as folder/<profile>/<NNNN>_<YYYYmmddTHHMMSSZ>.json, NNNN
    the next free number there (several writers at once each get their own)."""
    target = _result_folder(folder, profile_name)
    stamp = _parse_utc(result["started"]).strftime("%Y%m%dT%H%M%SZ")
    data = orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    with _writing(target):
        target.mkdir(parents=True, exist_ok=True)
        number = 1 + max((int(m.group(1)) for p in target.iterdir() if (m := NAME.match(p.name))), default=0)
        while True:
            path = target / f"{number:04d}_{stamp}.json"
            try:
                with open(path, "xb") as f:
                    f.write(data + b"\n")
                return path
            except FileExistsError:
                number += 1


def _result_folder(folder: str | Path, profile_name: str) -> Path:
    return Path(folder) / _safe_name(profile_name)


@contextmanager
def _writing(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise UserError(f"cannot write results to {target}: {error.strerror or error}") from None


def load_result(path: str | Path) -> dict:
    """A result file, checked to be one this logstorm reads (UserError if not)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        result = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(result, dict) or "schema_version" not in result:
        raise UserError(f"{path} is not a logstorm result file (no schema_version)")
    if result["schema_version"] != SCHEMA_VERSION:
        raise UserError(f"{path} has schema_version {result['schema_version']!r}; this logstorm reads {SCHEMA_VERSION}")
    missing = _missing(result)
    if missing:
        raise UserError(f"{path} is not a complete logstorm result: {missing} is missing or malformed")
    return result


def load_run(path: str | Path) -> dict:
    """A result file, or a folder of repeated runs (every *.json in it) combined into one."""
    folder = Path(path)
    if not folder.is_dir():
        return load_result(path)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise UserError(f"{path} holds no result files (*.json)")
    try:
        return build_repeated([load_result(file) for file in files])
    except ValueError as error:
        raise UserError(f"{path}: {error}") from None


def _missing(result: dict) -> str | None:
    """The first field compare relies on that is absent or of the wrong kind."""
    shapes = (("profile", dict), ("host", dict), ("sinks", list), ("series", list), ("duration_s", (int, float)),
              ("status", int), ("started", str), ("ended", str), ("totals", dict), ("throughput", dict))
    for key, kind in shapes:
        if not isinstance(result.get(key), kind):
            return key
    if not isinstance(result["profile"].get("name"), str) or not isinstance(result["profile"].get("hash"), str):
        return "profile.name/hash"
    for i, sink in enumerate(result["sinks"]):
        if not isinstance(sink, dict) or not isinstance(sink.get("name"), str) or \
                not isinstance(sink.get("latency"), dict) or not isinstance(sink["latency"].get("publish"), dict):
            return f"sinks[{i}]"
    return None


def _safe_name(name: str) -> str:
    """A profile name as one folder name (never a path)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "run"


def _per_second(count: int, seconds: float) -> float | None:
    return round(count / seconds, 3) if seconds > 0 else None


def _round(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 3)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_utc(text: str) -> dt.datetime:
    """A time written by _utc, as an aware datetime: its timestamp() is right
    in any local zone (strptime's naive one was read as local time), and
    fromisoformat needs none of the 3 ms strptime's first call costs."""
    return dt.datetime.fromisoformat(text)
