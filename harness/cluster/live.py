"""The shards' per-second records, as they stream in, added into one record
per second for the dashboard: the sums in the sink rows, one row per shard
in place of the generators. A second is shown once every running shard has
reported it (or a later one), or when the run ends."""

from __future__ import annotations

import math

from harness.report.merge import TICK_TOLERANCE


class LiveSeconds:
    def __init__(self, labels: list[str]) -> None:
        self.labels = labels  # per shard, as shown: "shard 0 @ 10.0.0.5"
        self.pending: dict[int, dict[int, dict]] = {}  # second -> shard -> its record
        self.latest: dict[int, dict] = {}  # shard -> its last record (for the running totals)
        self.newest: dict[int, int] = {}  # shard -> the last second it reported

    def add(self, shard: int, record: dict) -> None:
        second = max(1, math.ceil(record["t"] - TICK_TOLERANCE))
        self.pending.setdefault(second, {})[shard] = record
        self.newest[shard] = max(self.newest.get(shard, 0), second)

    def ready(self, running: set[int], everything: bool = False) -> list[dict]:
        """The seconds every running shard has got past (all, if `everything`), combined."""
        out = []
        for second in sorted(self.pending):
            if not everything and any(self.newest.get(shard, 0) < second for shard in running):
                break
            parts = self.pending.pop(second)
            self.latest.update(parts)
            out.append(self.combine(second, parts))
        return out

    def combine(self, second: int, parts: dict[int, dict]) -> dict:
        """One record in the metrics role's shape (run/metrics.interval_record)."""
        totals = list(self.latest.values())
        sinks = []
        for i, first in enumerate(next(iter(parts.values()))["sinks"]):
            mine = [p["sinks"][i] for p in parts.values()]
            sinks.append({
                "name": first["name"],
                "target": _highest(s["target"] for s in mine),  # every shard's is the whole run's
                **{key: sum(s[key] for s in mine) for key in ("sent", "delivered", "failed", "late")},
                **{key: sum(r["sinks"][i][key] for r in totals) for key in ("delivered_total", "failed_total")},
                **{key: _highest(s[key] for s in mine) for key in ("span_s", "lag_s", "p50_us", "p99_us", "p999_us")},
            })
        bad: dict[str, int] = {}
        for part in parts.values():
            for kind, n in part["bad"].items():
                bad[kind] = bad.get(kind, 0) + n
        shards = [{"name": label, "rate": parts[k]["generated"] if k in parts else 0.0,
                   "ring_fill": max((g["ring_fill"] for g in parts[k]["generators"]), default=0.0) if k in parts else 0.0}
                  for k, label in enumerate(self.labels)]
        return {"t": float(second), "seconds": max(p["seconds"] for p in parts.values()),
                "generated": sum(p["generated"] for p in parts.values()),
                "generated_total": sum(r["generated_total"] for r in totals), "generators": shards, "bad": bad, "sinks": sinks,
                "sharded": True}


def _highest(values) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None
