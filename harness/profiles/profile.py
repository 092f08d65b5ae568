"""Named benchmark profiles: a run's load shape and its targets in one TOML
file (profiles/<name>.toml; every key is documented in profiles/README.md).

    [profile]                 description, repeat, results
    [load]                    format, generators, lines | duration, warmup, rate, ...
    [load.schedule]           repeat, time_scale, json | [[load.schedule.steps]]
    [[sinks]]                 name, producers, and the sink's own long flags as keys
    [thresholds]              "SINK.METRIC" = "CONDITION" (harness/report/thresholds.py)
    [read_back]               url, quiet: tag the lines and read the far end (harness/readback/)

load_profile() checks everything before anything runs: an unknown key, a
wrong type, a missing key or a value the sink refuses is one UserError that
names the file, the line and the key (or the --set that gave the value).
Sink options go through the sink's own argparse flags and options(), so a
profile gets exactly the defaults and checks of the command line.
"""

from __future__ import annotations

import copy
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from importlib.resources import files

from generators.spec import DEFAULT_START, fresh_seed
from harness.load import schedule as shapes
from harness.errors import UserError
from harness.profiles.keys import FOREVER, Key, Where, normalized, read_table, toml_text
from harness.profiles.overrides import apply_overrides
from harness.profiles.sinks import SinkSpec, read_sink
from harness.report.thresholds import Threshold, flatten, parse as parse_threshold
from harness.run.spec import RunSpec
from harness.load.schedule import Schedule

# The repository's profiles/, installed as package data (see setup.py); a
# wheel installs unzipped, so the package's folder is a real path.
PROFILES_DIR = Path(str(files("harness.profiles.shipped")))
MiB = 1 << 20
# Kafka's -e settings appear in resolved() as a table so that "sasl.password"
# is a key too, and harness.report.results.redact masks it like any secret.


# ---------------------------------------------------------------- the data

@dataclass(frozen=True)
class StepSpec:
    """One [[load.schedule.steps]] entry: a shape and its parameters."""

    kind: str  # step, steps, ramp, sine, burst
    params: tuple[tuple[str, Any], ...]  # numbers, or a tuple of numbers for `rates`

    def build(self) -> Schedule:
        p = dict(self.params)
        match self.kind:
            case "step":
                return shapes.Step(p["rate"], p["seconds"])
            case "steps":
                return shapes.Sequence([shapes.Step(rate, p["seconds"]) for rate in p["rates"]], repeat=1)
            case "ramp":
                return shapes.Ramp(p["from"], p["to"], p["seconds"])
            case "sine":
                return shapes.Sine(p["mean"], p["amplitude"], p["period"], p["seconds"])
            case "burst":
                return shapes.Burst(p["base"], p["peak"], p["every"], p["length"], p["seconds"])
        raise ValueError(f"unknown schedule step kind {self.kind!r}")

    def resolved(self) -> dict:
        return {"kind": self.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.params}}


@dataclass(frozen=True)
class ScheduleSpec:
    steps: tuple[StepSpec, ...]
    repeat: int | str = 1  # or "forever"
    time_scale: float = 1.0  # 60: an hour of the schedule plays in a minute
    json: str | None = None  # the old JSON file the steps came from, as written

    def build(self) -> Schedule:
        played = shapes.Sequence([step.build() for step in self.steps], repeat=None if self.repeat == FOREVER else self.repeat)
        return played if self.time_scale == 1 else played.scaled(self.time_scale)

    def resolved(self) -> dict:
        return {"repeat": self.repeat, "time_scale": self.time_scale, **({"json": self.json} if self.json else {}),
                "steps": [step.resolved() for step in self.steps]}


@dataclass(frozen=True)
class Load:
    format: str = "apache"
    generators: int = 1
    lines: int | None = None  # None: not given (0: until the duration ends)
    duration: float | None = None  # seconds
    warmup: float = 0.0  # seconds at the start left out of the figures
    baddata: float = 0.0  # percent
    baddata_kinds: tuple[str, ...] | None = None
    seed: int = 0  # drawn at load time when the profile has none, so resolved() and the run agree
    rate: float | None = None  # lines/s in total; None with no schedule: unlimited
    schedule: ScheduleSpec | None = None
    timezone: str = "UTC"
    realtime: bool = False
    start: str = DEFAULT_START
    clock_rate: float = 1000.0
    bot_share: float = 0.08
    ring_mib: float = 8.0


@dataclass(frozen=True)
class Profile:
    name: str
    path: str
    description: str
    repeat: int
    results: str
    load: Load
    sinks: tuple[SinkSpec, ...]
    thresholds: tuple[Threshold, ...] = ()
    read_back: dict | None = None  # [read_back]: url, quiet

    @property
    def warmup(self) -> float:
        return self.load.warmup

    def schedule(self) -> Schedule | None:
        """The run's Schedule, or None when unpaced."""
        if self.load.schedule is not None:
            return self.load.schedule.build()
        return None if self.load.rate is None else shapes.constant(self.load.rate)

    def to_runspec(self) -> RunSpec:
        from generators.spec import LineSpec

        load = self.load
        line_spec = LineSpec(format=load.format, seed=load.seed, baddata=load.baddata, kinds=load.baddata_kinds,
                             realtime=load.realtime, start=load.start, clock_rate=load.clock_rate,
                             timezone=load.timezone, bot_share=load.bot_share)
        schedule = self.schedule()
        return RunSpec(source=line_spec, sinks=tuple(s.target() for s in self.sinks), generators=load.generators,
                       lines=_lines(load, schedule), duration=load.duration, rate=load.rate, schedule=schedule,
                       ring_bytes=int(load.ring_mib * MiB), extra={"profile": self.name, "warmup": load.warmup},
                       **self._line_identity())

    def _line_identity(self) -> dict:
        from harness.readback.target import line_identity

        return {} if self.read_back is None else line_identity(self.load.format, self.read_back["url"], self.read_back["quiet"])

    def resolved(self) -> dict:
        """The whole profile with defaults filled in, as plain JSON-able data
        (keys named like password are kept: harness.report.results.redact masks them)."""
        load = {k: v for k, v in vars(self.load).items() if v is not None and k != "schedule"}
        if self.load.baddata_kinds is not None:
            load["baddata_kinds"] = list(self.load.baddata_kinds)
        if self.load.schedule is not None:
            load["schedule"] = self.load.schedule.resolved()
        return {"name": self.name,
                "profile": {"description": self.description, "repeat": self.repeat, "results": self.results},
                "load": load,
                "sinks": [{"name": s.name, "producers": s.producers, **copy.deepcopy(s.settings)} for s in self.sinks],
                **({"thresholds": {t.name: t.condition for t in self.thresholds}} if self.thresholds else {}),
                **({"read_back": dict(self.read_back)} if self.read_back else {})}


def _lines(load: Load, schedule: Schedule | None) -> int:
    """Lines to generate, as `logstorm run` counts them: a paced run with a
    duration gets exactly the lines due in it, a schedule that ends at most
    its total (0 lines: until the duration ends)."""
    lines = load.lines or 0
    if schedule is None or (load.duration is None and schedule.duration is None):
        return lines
    due = math.floor(schedule.lines_due(load.duration) if load.duration is not None else schedule.total_lines)
    return min(lines, due) if lines else due


# ---------------------------------------------------------------- finding profiles

def names() -> list[str]:
    """The shipped profiles, by name."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def available() -> list[tuple[str, str]]:
    """(name, one-line description) of each shipped profile, without checking them."""
    out = []
    for name in names():
        try:
            description = tomllib.loads((PROFILES_DIR / f"{name}.toml").read_text("utf-8"))["profile"]["description"]
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
            description = f"(cannot read it: {error})"
        out.append((name, str(description)))
    return out


def find(name_or_path: str) -> Path:
    named = PROFILES_DIR / f"{name_or_path}.toml"
    if "/" not in name_or_path and os.sep not in name_or_path and named.is_file():
        return named
    path = Path(name_or_path)
    if path.is_file():
        return path
    raise UserError(f"no profile {name_or_path!r}: not a file, nor a named profile ({', '.join(names())})")


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


# ---------------------------------------------------------------- the sections

TOP = {"profile": Key("table", required=True), "load": Key("table", {}), "sinks": Key("tables", required=True),
       "thresholds": Key("table", {}), "read_back": Key("table"), "cluster": Key("table")}  # [cluster]: harness/cluster/table.py
READ_BACK = {"url": Key("str", required=True), "quiet": Key("number", 5.0, 0, above=True)}
PROFILE = {
    "description": Key("str", required=True),
    "repeat": Key("int", 1, low=1),
    "results": Key("str", "results"),
}
LOAD = {
    "format": Key("str", "apache"),
    "generators": Key("int", 1, 1, 64),
    "lines": Key("int", None, 0),
    "duration": Key("number", None, 0, above=True),
    "warmup": Key("number", 0.0, 0),
    "baddata": Key("number", 0.0, 0, 100),
    "baddata_kinds": Key("strings"),
    "seed": Key("int", None, 0),
    "rate": Key("number", None, 0, above=True),
    "schedule": Key("table"),
    "timezone": Key("str", "UTC"),
    "realtime": Key("bool", False),
    "start": Key("time", Load.start),
    "clock_rate": Key("number", 1000.0, 0, above=True),
    "bot_share": Key("number", 0.08, 0, 1),
    "ring_mib": Key("number", 8.0, 0.0625, 1024),
}
SCHEDULE = {
    "repeat": Key("repeat"),  # default: 1 for steps, forever for json (the old format cycles)
    "time_scale": Key("number", 1.0, 0, above=True),
    "json": Key("str"),
    "steps": Key("tables"),
}
_PARAM = Key("number", required=True, low=0)
SHAPES: dict[str, dict[str, Key]] = {
    "step": {"rate": _PARAM, "seconds": _PARAM},
    "steps": {"rates": Key("numbers", required=True), "seconds": _PARAM},
    "ramp": {"from": _PARAM, "to": _PARAM, "seconds": _PARAM},
    "sine": {"mean": _PARAM, "amplitude": _PARAM, "period": _PARAM, "seconds": _PARAM},
    "burst": {"base": _PARAM, "peak": _PARAM, "every": _PARAM, "length": _PARAM, "seconds": _PARAM},
}


def load_profile(name_or_path: str, sets: Sequence[str] = (), overrides: Mapping[str, Any] | None = None) -> Profile:
    """Read, override and check a profile. `sets` are "key.path=value"
    strings (--set); `overrides` holds the run command's shortcuts:
    broker (kafka sinks), sink (a name or names: replaces the sinks), duration."""
    path = find(name_or_path)
    shown = _shown(path)
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise UserError(f"{shown}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{shown}: not a UTF-8 text file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{shown}:{_toml_error(str(error))}") from None
    origins, texts = apply_overrides(data, sets, overrides or {})
    return _profile(path, Where(shown, text, origins), data, texts)


def _toml_error(message: str) -> str:
    """tomllib's "msg (at line 3, column 5)" as "3:5: msg"."""
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    return f"{at.group(1)}:{at.group(2)}: {message[:at.start()]}" if at else f" {message}"


def _profile(path: Path, where: Where, data: dict, texts: Mapping[tuple, str]) -> Profile:
    top = read_table(where, (), data, TOP, "the profile", texts)
    head = read_table(where, ("profile",), top["profile"], PROFILE, "[profile]", texts)
    load = _load(where, top["load"], path.parent, texts)
    sinks = tuple(read_sink(where, i, raw, texts) for i, raw in enumerate(top["sinks"]))
    return Profile(name=path.stem, path=str(path), description=head["description"], repeat=head["repeat"],
                   results=head["results"], load=load, sinks=sinks, thresholds=_thresholds(where, top["thresholds"]),
                   read_back=_read_back(where, top["read_back"], texts, clustered=top["cluster"] is not None))


def _read_back(where: Where, raw: Any, texts: Mapping[tuple, str], clustered: bool) -> dict | None:
    if raw is None:
        return None
    if clustered:  # each shard would draw its own run id and expect every line
        raise where.error(("read_back",), "[read_back] is for a run on one machine, not with [cluster]")
    from harness.readback.target import parse

    table = read_table(where, ("read_back",), raw, READ_BACK, "[read_back]", texts)
    try:
        parse(table["url"], "")
    except UserError as error:
        raise where.error(("read_back", "url"), str(error)) from None
    return table


def _thresholds(where: Where, table: dict) -> tuple[Threshold, ...]:
    out = []
    for name, condition in flatten(table):
        try:
            out.append(parse_threshold(name, condition))
        except UserError as error:
            quoted = ("thresholds", name)  # "kafka.p99" = ..., or kafka.p99 = ... (nested tables)
            raise where.error(quoted if quoted in where.lines else ("thresholds", *name.split(".")), str(error)) from None
    return tuple(out)


def _load(where: Where, raw: Any, folder: Path, texts: Mapping[tuple, str]) -> Load:
    from generators import FORMATS
    from generators.baddata import KINDS as BAD_KINDS
    from generators.factory import parse_start, parse_timezone

    v = read_table(where, ("load",), raw, LOAD, "[load]", texts)
    v["format"] = v["format"].lower()
    if v["format"] not in FORMATS:
        raise where.error(("load", "format"), f"[load] format {v['format']!r} is not a log format ({', '.join(FORMATS)})")
    for kind in v["baddata_kinds"] or ():
        if kind not in BAD_KINDS:
            raise where.error(("load", "baddata_kinds"), f"[load] baddata_kinds: unknown kind {kind!r} ({', '.join(BAD_KINDS)})")
    for name, parse in (("timezone", parse_timezone), ("start", parse_start)):
        try:
            parse(v[name])
        except ValueError as error:
            raise where.error(("load", name), f"[load] {name}: {str(error).replace('--start ', '')}") from None
    if v["schedule"] is not None:
        if v["rate"] is not None:
            raise where.error(("load", "rate"), "[load] has both rate and [load.schedule]: keep one")
        v["schedule"] = _schedule(where, v["schedule"], folder, texts)
    if v["seed"] is None:
        v["seed"] = fresh_seed()
    load = Load(**v)
    _check_extent(where, load)
    return load


def _check_extent(where: Where, load: Load) -> None:
    """A profile must say when its run ends, and its warm-up must end first."""
    schedule = load.schedule.build() if load.schedule else None
    ends = load.duration if load.duration is not None else schedule.duration if schedule else None
    if load.lines is None and ends is None:
        raise where.error(("load",), "missing key 'lines' or 'duration' in [load] (or a schedule that ends)")
    if schedule is not None and schedule.total_lines == 0:
        raise where.error(("load", "schedule"), "[load.schedule] sends no lines: every rate is 0")
    if load.warmup and ends is not None and load.warmup >= ends:
        raise where.error(("load", "warmup"), f"[load] warmup ({load.warmup:g} s) must be shorter than the run ({ends:g} s)")


def _schedule(where: Where, raw: dict, folder: Path, texts: Mapping[tuple, str]) -> ScheduleSpec:
    path = ("load", "schedule")
    v = read_table(where, path, raw, SCHEDULE, "[load.schedule]", texts)
    if (v["json"] is None) == (v["steps"] is None):
        raise where.error(path, "[load.schedule] needs either json or [[load.schedule.steps]], not both or neither")
    if isinstance(v["repeat"], int) and v["repeat"] < 1:
        raise where.error((*path, "repeat"), f'[load.schedule] repeat must be at least 1 or "{FOREVER}", not {v["repeat"]}')
    if v["json"] is not None:
        # Relative to the profile's folder; a --set value, to the current one.
        base = Path.cwd() if where.from_command_line((*path, "json")) else folder
        try:
            old = shapes.from_json(base / v["json"])
        except UserError as error:
            raise where.error((*path, "json"), str(error)) from None
        steps = (StepSpec("steps", (("rates", tuple(s.rate for s in old.segments)), ("seconds", old.segments[0].seconds))),)
        repeat = FOREVER if v["repeat"] is None else v["repeat"]
    else:
        steps = tuple(_step(where, (*path, "steps", i), raw_step, texts) for i, raw_step in enumerate(v["steps"]))
        repeat = 1 if v["repeat"] is None else v["repeat"]
    return ScheduleSpec(steps=steps, repeat=repeat, time_scale=v["time_scale"], json=v["json"])


def _step(where: Where, path: tuple, raw: dict, texts: Mapping[tuple, str]) -> StepSpec:
    title = f"[[load.schedule.steps]] #{path[-1] + 1}"
    kind = normalized(where, path, raw).get("kind")
    if not isinstance(kind, str) or kind not in SHAPES:
        what = f"kind {toml_text(kind)} is not one of" if kind is not None else "missing key 'kind': one of"
        raise where.error((*path, "kind"), f"{title}: {what} {', '.join(SHAPES)}")
    title = f"{title} ({kind})"
    params = read_table(where, path, raw, {"kind": Key("str")} | SHAPES[kind], title, texts)
    del params["kind"]
    step = StepSpec(kind, tuple(params.items()))
    try:
        step.build()
    except ValueError as error:
        # The schedule's message starts with the parameter it refuses, when it is one.
        named = str(error).split(" ", 1)[0]
        raise where.error((*path, named) if named in params else path, f"{title}: {error}") from None
    return step
