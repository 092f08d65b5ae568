"""Named benchmark profiles: a run's load shape and its targets in one TOML
file (profiles/<name>.toml; every key is documented in profiles/README.md).

    [profile]                 description, repeat, results
    [load]                    format, generators, lines | duration, warmup, rate, ...
    [load.schedule]           repeat, time_scale, json | [[load.schedule.steps]]
    [[sinks]]                 name, producers, and the sink's own long flags as keys

load_profile() checks everything before anything runs: an unknown key, a
wrong type, a missing key or a value the sink refuses is one UserError that
names the file, the line and the key (or the --set that gave the value).
Sink options go through the sink's own argparse flags and options(), so a
profile gets exactly the defaults and checks of the command line.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import importlib
import math
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Mapping, Sequence

import harness
from harness import schedule as shapes
from harness.errors import UserError
from harness.runspec import RunSpec, SinkTarget
from harness.schedule import Schedule

PROFILES_DIR = Path(harness.__file__).resolve().parent.parent / "profiles"
FOREVER = "forever"
MiB = 1 << 20
# Kafka's -e settings appear in resolved() as a table so that "sasl.password"
# is a key too, and harness.results.redact masks it like any secret.
# Defaults that come from the environment (SASL_USERNAME, SASL_PASSWORD), not from the profile.
FROM_ENVIRONMENT = re.compile(r"sasl|username|password|secret|token", re.IGNORECASE)


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
    start: str = "2026-01-01T00:00:00+00:00"  # generators.factory.DEFAULT_START (importing it loads numpy)
    clock_rate: float = 1000.0
    bot_share: float = 0.08
    ring_mib: float = 8.0


@dataclass(frozen=True)
class SinkSpec:
    name: str  # the sink's registry name
    module: str
    producers: int
    argv: tuple[str, ...] = field(repr=False)  # its command-line flags; may hold a password
    settings: dict = field(repr=False, compare=False)  # for resolved(): given keys and the sink's defaults

    def target(self) -> SinkTarget:
        """A fresh SinkTarget (fresh run ids for sinks that have them)."""
        return SinkTarget(self.name, self.module, _sink_options(importlib.import_module(self.module), self.argv),
                          self.producers)


@dataclass(frozen=True)
class Profile:
    name: str
    path: str
    description: str
    repeat: int
    results: str
    load: Load
    sinks: tuple[SinkSpec, ...]

    @property
    def warmup(self) -> float:
        return self.load.warmup

    def schedule(self) -> Schedule | None:
        """The run's Schedule, or None when unpaced."""
        if self.load.schedule is not None:
            return self.load.schedule.build()
        return None if self.load.rate is None else shapes.constant(self.load.rate)

    def to_runspec(self) -> RunSpec:
        from generators.factory import LineSpec

        load = self.load
        line_spec = LineSpec(format=load.format, seed=load.seed, baddata=load.baddata, kinds=load.baddata_kinds,
                             realtime=load.realtime, start=load.start, clock_rate=load.clock_rate,
                             timezone=load.timezone, bot_share=load.bot_share)
        schedule = self.schedule()
        return RunSpec(source=line_spec, sinks=tuple(s.target() for s in self.sinks), generators=load.generators,
                       lines=_lines(load, schedule), duration=load.duration, rate=load.rate, schedule=schedule,
                       ring_bytes=int(load.ring_mib * MiB), extra={"profile": self.name, "warmup": load.warmup})

    def resolved(self) -> dict:
        """The whole profile with defaults filled in, as plain JSON-able data
        (keys named like password are kept: harness.results.redact masks them)."""
        load = {k: v for k, v in vars(self.load).items() if v is not None and k != "schedule"}
        if self.load.baddata_kinds is not None:
            load["baddata_kinds"] = list(self.load.baddata_kinds)
        if self.load.schedule is not None:
            load["schedule"] = self.load.schedule.resolved()
        return {"name": self.name,
                "profile": {"description": self.description, "repeat": self.repeat, "results": self.results},
                "load": load,
                "sinks": [{"name": s.name, "producers": s.producers, **copy.deepcopy(s.settings)} for s in self.sinks]}


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


# ---------------------------------------------------------------- where a key is

class Where:
    """File and line of any key path, for error messages. tomllib gives no
    positions, so the text is scanned for headers and `key =` lines (good
    enough for hand-written files). Values from the command line are
    reported as the flag that gave them."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"""^\s*((?:[\w-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[\w-]+|"[^"]*"|'[^']*'))*)\s*=""")
    PART = re.compile(r""""([^"]*)"|'([^']*)'|([\w-]+)""")

    def __init__(self, shown: str, text: str, origins: Mapping[tuple, str]) -> None:
        self.shown = shown
        self.origins = origins
        self.lines: dict[tuple, int] = {}
        table: tuple = ()
        arrays: dict[tuple, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            if header := self.HEADER.match(line):
                table = self._parts(header.group(2))
                if header.group(1) == "[[":
                    self.lines.setdefault(table, number)
                    arrays[table] = arrays.get(table, -1) + 1
                    table = (*table, arrays[table])
                self._found(table, number)
            elif key := self.KEY.match(line):
                self._found((*table, *self._parts(key.group(1))), number)

    def _found(self, path: tuple, number: int) -> None:
        """[load.schedule] and `load.rate = 5` define [load] too."""
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], number)

    def _parts(self, dotted: str) -> tuple[str, ...]:
        return tuple(_key(a or b or c) for a, b, c in self.PART.findall(dotted))

    def from_command_line(self, path: tuple) -> str | None:
        return next((self.origins[path[:n]] for n in range(len(path), 0, -1) if path[:n] in self.origins), None)

    def at(self, path: tuple) -> str:
        given = self.from_command_line(path)
        if given is None and path not in self.lines:  # a table the command line made
            given = next((label for p, label in self.origins.items() if p[:len(path)] == path), None)
        if given:
            return given
        line = next((self.lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in self.lines), None)
        return self.shown if line is None else f"{self.shown}:{line}"

    def error(self, path: tuple, message: str) -> UserError:
        return UserError(f"{self.at(path)}: {message}")


def _key(name: str) -> str:
    """Dashes and underscores are the same in keys (delivery-timeout = delivery_timeout)."""
    return name.replace("-", "_")


# ---------------------------------------------------------------- typed keys

@dataclass(frozen=True)
class Key:
    kind: str  # a key of KINDS
    default: Any = None
    low: float | None = None
    high: float | None = None
    above: bool = False  # low itself is not allowed
    required: bool = False


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_WRONG = object()
NOUNS = {
    "str": "a string",
    "time": "an ISO 8601 time",
    "bool": "true or false",
    "int": "an integer",
    "number": "a number",
    "strings": "a list of strings",
    "numbers": "a non-empty list of numbers",
    "table": "a table",
    "tables": "an array of tables ([[...]])",
    "repeat": f'an integer or "{FOREVER}"',
}


def _convert(kind: str, v: Any) -> Any:
    """A TOML value as the key's kind wants it, or _WRONG."""
    is_int = isinstance(v, int) and not isinstance(v, bool)
    match kind:
        case "str" if isinstance(v, str):
            return v
        case "time" if isinstance(v, (str, datetime, date, time)):
            return v if isinstance(v, str) else v.isoformat()  # TOML's own date-times are fine too
        case "bool" if isinstance(v, bool):
            return v
        case "int" if is_int:
            return v
        case "number" if _is_number(v):
            return float(v)
        case "strings" if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return tuple(v)
        case "numbers" if isinstance(v, list) and v and all(map(_is_number, v)):
            return tuple(map(float, v))
        case "table" if isinstance(v, dict):
            return v
        case "tables" if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            return v
        case "repeat" if is_int or v == FOREVER:
            return v
    return _WRONG


def _toml(value: Any) -> str:
    """A value as TOML spells it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return str(value)


def _range(key: Key) -> str:
    if key.high is not None:
        return f"between {key.low:g} and {key.high:g}"
    return f"greater than {key.low:g}" if key.above else f"at least {key.low:g}"


def _typed(where: Where, path: tuple, value: Any, key: Key, title: str, texts: Mapping[tuple, str]) -> Any:
    if key.kind in ("str", "time") and not isinstance(value, str) and path in texts:
        value = texts[path]  # --set topic=2026 meant the text, not the number
    out = _convert(key.kind, value)
    subject = f"{title} {path[-1]}" if len(path) > 1 else path[-1]
    if out is _WRONG:
        raise where.error(path, f"{subject} must be {NOUNS[key.kind]}, not {_toml(value)}")
    if key.low is not None and isinstance(out, (int, float)):
        low_ok = out > key.low if key.above else out >= key.low
        if not low_ok or (key.high is not None and out > key.high):
            raise where.error(path, f"{subject} must be {_range(key)}, not {_toml(value)}")
    return out


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (keys: {', '.join(known)})"


def _normalized(where: Where, path: tuple, table: dict) -> dict:
    out: dict = {}
    for name, value in table.items():
        key = _key(name)
        if key in out:
            raise where.error((*path, key), f"{key!r} is given twice (once with dashes, once with underscores)")
        out[key] = value
    return out


def _table(where: Where, path: tuple, raw: Any, keys: Mapping[str, Key], title: str,
           texts: Mapping[tuple, str]) -> dict[str, Any]:
    """The keys of one table, typed and range-checked, defaults filled in."""
    if not isinstance(raw, dict):
        raise where.error(path, f"{title} must be a table, not {_toml(raw)}")
    table = _normalized(where, path, raw)
    for name in table:
        if name not in keys:
            raise where.error((*path, name), f"unknown key {name!r} in {title}{_suggest(name, list(keys))}")
    out = {}
    for name, key in keys.items():
        if name in table:
            out[name] = _typed(where, (*path, name), table[name], key, title, texts)
        elif key.required:
            raise where.error(path, f"missing key {name!r} in {title}")
        else:
            out[name] = key.default
    return out


# ---------------------------------------------------------------- the sections

TOP = {"profile": Key("table", required=True), "load": Key("table", {}), "sinks": Key("tables", required=True)}
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
SINK = {"name": Key("str", required=True), "producers": Key("int", 1, 1, 64)}


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """--set KEY.PATH=VALUE, for every command that takes a profile."""
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a profile key, repeatable: load.rate=500, sinks.0.topic=t, "
                             "load.schedule.time_scale=3600 (values are TOML; bare text is a string)")


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
    origins: dict[tuple, str] = {}
    texts: dict[tuple, str] = {}
    _shortcuts(data, overrides or {}, origins)
    for setting in sets:
        _set(data, setting, origins, texts)
    return _profile(path, Where(shown, text, origins), data, texts)


def _toml_error(message: str) -> str:
    """tomllib's "msg (at line 3, column 5)" as "3:5: msg"."""
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    return f"{at.group(1)}:{at.group(2)}: {message[:at.start()]}" if at else f" {message}"


def _profile(path: Path, where: Where, data: dict, texts: Mapping[tuple, str]) -> Profile:
    top = _table(where, (), data, TOP, "the profile", texts)
    head = _table(where, ("profile",), top["profile"], PROFILE, "[profile]", texts)
    load = _load(where, top["load"], path.parent, texts)
    sinks = tuple(_sink(where, i, raw, texts) for i, raw in enumerate(top["sinks"]))
    return Profile(name=path.stem, path=str(path), description=head["description"], repeat=head["repeat"],
                   results=head["results"], load=load, sinks=sinks)


def _load(where: Where, raw: Any, folder: Path, texts: Mapping[tuple, str]) -> Load:
    from generators import FORMATS
    from generators.baddata import KINDS as BAD_KINDS
    from generators.factory import parse_start, parse_timezone

    v = _table(where, ("load",), raw, LOAD, "[load]", texts)
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
        v["seed"] = secrets.randbits(32)
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
    v = _table(where, path, raw, SCHEDULE, "[load.schedule]", texts)
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
    kind = _normalized(where, path, raw).get("kind")
    if not isinstance(kind, str) or kind not in SHAPES:
        what = f"kind {_toml(kind)} is not one of" if kind is not None else "missing key 'kind': one of"
        raise where.error((*path, "kind"), f"{title}: {what} {', '.join(SHAPES)}")
    title = f"{title} ({kind})"
    params = _table(where, path, raw, {"kind": Key("str")} | SHAPES[kind], title, texts)
    del params["kind"]
    step = StepSpec(kind, tuple(params.items()))
    try:
        step.build()
    except ValueError as error:
        # The schedule's message starts with the parameter it refuses, when it is one.
        named = str(error).split(" ", 1)[0]
        raise where.error((*path, named) if named in params else path, f"{title}: {error}") from None
    return step


# ---------------------------------------------------------------- sinks

class _Refused(UserError):
    """A sink refused a value; `flag` says which one when known."""

    def __init__(self, message: str, flag: str | None = None) -> None:
        super().__init__(message)
        self.flag = flag


class _FlagParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise _Refused(message)


def _sink_parser(module) -> tuple[argparse.ArgumentParser, dict[str, argparse.Action]]:
    """The sink's own flags on a fresh parser, and its actions by profile key
    (the long flag without dashes: --delivery-timeout is delivery_timeout)."""
    parser = _FlagParser(prog=module.NAME, add_help=False, exit_on_error=False)
    module.add_arguments(parser)
    keys: dict[str, argparse.Action] = {}
    for action in parser._actions:
        for flag in action.option_strings:
            if flag.startswith("--"):
                keys.setdefault(_key(flag[2:]), action)
    return parser, keys


def _sink_options(module, argv: Sequence[str]) -> Any:
    """Parse the flags and build the sink's Options exactly as the command line does."""
    parser, _ = _sink_parser(module)
    try:
        args = parser.parse_args(list(argv))
    except argparse.ArgumentError as error:
        raise _Refused(error.message, error.argument_name) from None
    try:
        return module.options(args)
    except _Refused:
        raise
    except UserError as error:
        flag = re.search(r"(?<![\w-])(--?[A-Za-z][\w-]*)", str(error))
        raise _Refused(str(error), flag.group(1) if flag else None) from None


def _sink(where: Where, index: int, raw: dict, texts: Mapping[tuple, str]) -> SinkSpec:
    from sinks import sink_module

    path = ("sinks", index)
    table = _normalized(where, path, raw)
    common = _table(where, path, {k: v for k, v in table.items() if k in SINK}, SINK, f"[[sinks]] #{index + 1}", texts)
    try:
        module = sink_module(common["name"])
    except KeyError as error:
        raise where.error((*path, "name"), f"[[sinks]] #{index + 1}: {error.args[0]}") from None
    title = f"[[sinks]] #{index + 1} ({module.NAME})"
    most = getattr(module, "MAX_PRODUCERS", None)
    if most is not None and common["producers"] > most:
        raise where.error((*path, "producers"), f"{title} producers must be at most {most}, not {common['producers']}")
    parser, actions = _sink_parser(module)
    argv: list[str] = []
    settings: dict[str, Any] = {}
    for name, value in table.items():
        if name in SINK:
            continue
        if name not in actions:
            raise where.error((*path, name), f"unknown key {name!r} in {title}{_suggest(name, [*SINK, *actions])}")
        flags, settings[name] = _flags(where, (*path, name), title, actions[name], value)
        argv += flags
    for name, action in actions.items():
        if action.required and not any(actions.get(k) is action for k in table):
            raise where.error(path, f"missing key {name!r} in {title}")
    try:
        _sink_options(module, argv)
    except _Refused as error:
        raise _refusal(where, path, title, actions, error) from None
    for name, action in actions.items():
        if action.dest not in {actions[k].dest for k in settings}:
            default = _default(action)
            if default is not _WRONG:
                settings.setdefault(name, default)
    return SinkSpec(module.NAME, module.__name__, common["producers"], tuple(argv), settings)


def _refusal(where: Where, path: tuple, title: str, actions: Mapping[str, argparse.Action], error: _Refused) -> UserError:
    """The sink's complaint about a flag, told about the profile key instead."""
    by_flag = {flag: name for name, action in actions.items() for flag in action.option_strings}
    flag = next((f for f in (error.flag or "").split("/") if f in by_flag), None)
    message = str(error)
    if flag is None:
        return where.error(path, f"{title}: {message}")
    name = by_flag[flag]
    message = message.replace(flag, name, 1) if flag in message else f"{name}: {message}"
    return where.error((*path, name), f"{title} {message}")


def _is_settings(action: argparse.Action) -> bool:
    """A repeatable KEY=VALUE flag (kafka's -e): a table in a profile."""
    return isinstance(action, argparse._AppendAction) and "=" in str(action.metavar or "")


def _flags(where: Where, path: tuple, title: str, action: argparse.Action, value: Any) -> tuple[list[str], Any]:
    """A profile value as the sink's flags (--flag=value, so values may start
    with a dash), and the value as resolved() shows it."""
    flag = next(f for f in action.option_strings if f.startswith("--"))
    if action.nargs == 0:  # store_true and the like
        if not isinstance(value, bool):
            raise where.error(path, f"{title} {path[-1]} must be true or false, not {_toml(value)}")
        return ([flag] if value == action.const else []), value
    many = isinstance(action, argparse._AppendAction)
    if isinstance(value, dict):
        if not _is_settings(action):
            raise where.error(path, f"{title} {path[-1]} must be {'a list of values' if many else 'one value'}, not a table")
        value = [f"{k}={_text(where, path, title, v)}" for k, v in _flatten(value).items()]
    if isinstance(value, list):
        if not many:
            raise where.error(path, f"{title} {path[-1]} takes one value, not a list")
        texts = [_text(where, path, title, v) for v in value]
        shown: Any = dict(t.partition("=")[::2] for t in texts) if _is_settings(action) else texts
        return [f"{flag}={t}" for t in texts], shown
    text = _text(where, path, title, value)
    if many:
        return [f"{flag}={text}"], [text]
    return [f"{flag}={text}"], value


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """{compression: {type: "zstd"}} (TOML's dotted keys) as {"compression.type": "zstd"}."""
    out = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _text(where: Where, path: tuple, title: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    raise where.error(path, f"{title} {path[-1]} cannot take {_toml(value)}")


def _default(action: argparse.Action) -> Any:
    """The default resolved() shows for a flag the profile leaves out: only
    values the key would accept, and none that come from the environment."""
    default = action.default
    if default is None or FROM_ENVIRONMENT.search(action.dest):
        return _WRONG
    if action.nargs == 0:
        return default if isinstance(default, bool) else _WRONG
    if isinstance(default, list):
        return dict(d.partition("=")[::2] for d in default) if _is_settings(action) else list(default)
    if not isinstance(default, (str, int, float)) or isinstance(default, bool):
        return _WRONG
    try:
        accepted = action.type is None or action.type(str(default)) == default
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        accepted = False
    return default if accepted else _WRONG


# ---------------------------------------------------------------- overrides

def _shortcuts(data: dict, overrides: Mapping[str, Any], origins: dict[tuple, str]) -> None:
    unknown = set(overrides) - {"broker", "sink", "duration"}
    if unknown:
        raise ValueError(f"unknown override {sorted(unknown)[0]!r}")
    if overrides.get("sink"):
        sink = overrides["sink"]
        data["sinks"] = [{"name": name} for name in ([sink] if isinstance(sink, str) else sink)]
        origins[("sinks",)] = "--sink"
    if overrides.get("broker"):
        sinks = data.get("sinks") if isinstance(data.get("sinks"), list) else []
        kafka = [i for i, s in enumerate(sinks) if isinstance(s, dict) and str(s.get("name", "")).lower() == "kafka"]
        if not kafka:
            raise UserError("--broker: the profile has no kafka sink")
        for i in kafka:
            _put(sinks[i], "broker", overrides["broker"])
            origins[("sinks", i, "broker")] = "--broker"
    if overrides.get("duration") is not None:
        load = data.setdefault("load", {})
        if isinstance(load, dict):
            _put(load, "duration", overrides["duration"])
            origins[("load", "duration")] = "--duration"


def _put(table: dict, key: str, value: Any) -> None:
    """Set `key`, replacing it however the file spelled it (dashes or underscores)."""
    for existing in [k for k in table if _key(k) == key]:
        del table[existing]
    table[key] = value


def _set(data: dict, setting: str, origins: dict[tuple, str], texts: dict[tuple, str]) -> None:
    """--set key.path=value: the value is read as TOML (500, true, ["a"],
    "text"), and taken as plain text when it is not TOML (embedded, demo/)."""
    name, sep, text = setting.partition("=")
    parts = tuple(int(p) if p.isdigit() else _key(p) for p in name.strip().split("."))
    if not sep or not all(str(p) for p in parts):
        raise UserError(f"--set {setting!r}: expected KEY.PATH=VALUE, e.g. load.rate=500 or sinks.0.topic=t")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    label = f"--set {name.strip()}"
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        fresh = value if last else [] if isinstance(parts[i + 1], int) else {}
        if isinstance(node, dict) and isinstance(part, str):
            if last:
                _put(node, part, value)
            else:
                node = node.setdefault(next((k for k in node if _key(k) == part), part), fresh)
        elif isinstance(node, list) and isinstance(part, int) and part <= len(node):
            if part == len(node):
                node.append(fresh)
            elif last:
                node[part] = value
            node = node[part]
        else:
            where = ".".join(map(str, parts[:i])) or "the profile"
            if isinstance(node, list) and isinstance(part, int):
                what = f"has {len(node)} entr{'y' if len(node) == 1 else 'ies'}, numbered from 0"
            else:
                what = "is not a list" if isinstance(part, int) else "is not a table"
            raise UserError(f"{label}: {where} {what}")
    origins[parts] = label
    texts[parts] = text
