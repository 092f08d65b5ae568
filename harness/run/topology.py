"""The process topology of a run, as data: a pure function of the RunSpec.

    supervisor
      ├─ generator g (0..N-1)    renders batches g, g+N, g+2N, ... of the run
      │     └─ ring[g][s][p] ──> producer s.p   batch b of generator g goes to
      │                                         producer b mod P_s of every sink s
      ├─ producer s.p            drains its N rings, paces, delivers to sink s
      ├─ observer s              (sinks asked for --e2e) reads back what s delivered
      ├─ read-back               (--read-back) reads the far end of the pipeline, finds the tags
      └─ metrics                 reads every stat slot once a second

Every ring has one writer and one reader. For `stream`, one reader thread in
the supervisor takes the place of the generators (standard input cannot be
handed to a spawned process).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.run.spec import RunSpec, StreamInput


@dataclass(frozen=True)
class RingSpec:
    index: int
    generator: int
    sink: int
    producer: int


@dataclass(frozen=True)
class ProcessSpec:
    role: str  # "generator", "reader", "producer", "observer", "metrics"
    name: str
    slot: int | None  # its stat slot
    rank: int = 0  # within its role (and sink)
    of: int = 1  # how many share that role (and sink)
    sink: int | None = None
    rings: tuple[int, ...] = ()  # rings it writes (generators) or reads (producers)


@dataclass(frozen=True)
class Plan:
    processes: tuple[ProcessSpec, ...]
    rings: tuple[RingSpec, ...]

    def role(self, role: str) -> list[ProcessSpec]:
        return [p for p in self.processes if p.role == role]

    @property
    def slots(self) -> int:
        return sum(p.slot is not None for p in self.processes)


def plan(spec: RunSpec) -> Plan:
    reading = isinstance(spec.source, StreamInput)
    sources = 1 if reading else spec.generators
    rings = [RingSpec(i, g, s, p) for i, (g, s, p) in enumerate(
        (g, s, p) for g in range(sources) for s, target in enumerate(spec.sinks) for p in range(target.producers))]
    processes: list[ProcessSpec] = []
    for g in range(sources):
        name = "reader" if reading else f"generator-{g}"
        processes.append(ProcessSpec("reader" if reading else "generator", name, len(processes), g, sources,
                                     rings=tuple(r.index for r in rings if r.generator == g)))
    for s, target in enumerate(spec.sinks):
        for p in range(target.producers):
            processes.append(ProcessSpec("producer", f"producer-{target.name}-{p}" if len(spec.sinks) == 1 else f"producer-{s}-{target.name}-{p}",
                                         len(processes), p, target.producers, sink=s,
                                         rings=tuple(r.index for r in rings if r.sink == s and r.producer == p)))
    for s, target in enumerate(spec.sinks):
        if getattr(target.options, "e2e", False):
            processes.append(ProcessSpec("observer", f"observer-{target.name}", len(processes), sink=s))
    if spec.read_back is not None:
        processes.append(ProcessSpec("read-back", "read-back", len(processes), sink=0))
    processes.append(ProcessSpec("metrics", "metrics", None))
    return Plan(tuple(processes), tuple(rings))


def describe(plan: Plan, spec: RunSpec) -> str:
    """What `logstorm plan` prints."""
    kib = spec.ring_bytes >> 10
    rings = f"{len(plan.rings)} ring{'s' if len(plan.rings) != 1 else ''}"
    lines = [f"supervisor and {len(plan.processes)} processes, {rings} of {kib:,} KiB "
             f"({len(plan.rings) * kib / 1024:,.1f} MiB of shared memory for rings)"]
    for p in plan.processes:
        if p.role in ("generator", "reader"):
            where = ", ".join(f"ring {r} -> {_producer(plan, r)}" for r in p.rings)
            what = "reads stdin/files" if p.role == "reader" else f"batches {p.rank}, {p.rank + p.of}, {p.rank + 2 * p.of}, ..."
            lines.append(f"  {p.name:24} {what}; writes {where}")
        elif p.role == "producer":
            target = spec.sinks[p.sink]
            lines.append(f"  {p.name:24} reads rings {', '.join(map(str, p.rings))}; delivers to {target.name} (producer {p.rank + 1} of {p.of})")
        elif p.role == "observer":
            lines.append(f"  {p.name:24} reads what {spec.sinks[p.sink].name} delivered, for end-to-end latency")
        elif p.role == "read-back":
            lines.append(f"  {p.name:24} reads {spec.read_back.url}: lines seen, missing, duplicated, end-to-end latency")
        else:
            lines.append(f"  {p.name:24} reads every stat slot once a second")
    return "\n".join(lines)


def _producer(plan: Plan, ring: int) -> str:
    return next(p.name for p in plan.processes if p.role == "producer" and ring in p.rings)
