"""What a run is: where lines come from, how many, how fast, and where they go.
Built by the commands (and later by profiles); everything here is frozen and
picklable, because each process receives the parts it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generators.spec import LineSpec

DEFAULT_RING_BYTES = 8 << 20


@dataclass(frozen=True)
class SinkTarget:
    name: str  # as shown, e.g. "kafka"
    module: str  # where it lives, e.g. "sinks.kafka"
    options: Any  # the sink module's frozen Options
    producers: int = 1


@dataclass(frozen=True)
class StreamInput:
    """Lines read from stdin ("-"), files (plain or .gz) or s3:// prefixes."""

    paths: tuple[str, ...] = ("-",)


@dataclass(frozen=True)
class RunSpec:
    source: LineSpec | StreamInput
    sinks: tuple[SinkTarget, ...]
    generators: int = 1
    lines: int = 0  # 0: until --duration ends or Ctrl-C
    duration: float | None = None  # seconds
    rate: float | None = None  # lines/s in total, None: unlimited
    schedule: Any = None  # a harness.load.schedule Schedule; wins over rate
    ring_bytes: int = DEFAULT_RING_BYTES
    quiet: bool = False
    shard: int = 0  # this run is shard `shard` of `shards`: the batches whose index is shard mod shards
    shards: int = 1
    start_at: float | None = None  # epoch seconds of the common start of all shards (None: when ready)
    feed: str | None = None  # a file the metrics append each per-second record to, one JSON line each
    tag: Any = None  # a generators.tag.Tagger: each line carries the run id and its line number
    read_back: Any = None  # a harness.readback.target.ReadBack: where to read the far end of the pipeline
    truth: str | None = None  # a truth file (harness/report/truth.py), header written: the generators append each bad line
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def paced(self) -> bool:
        return self.schedule is not None or self.rate is not None
