"""Changes to a profile's data from the command line, before it is checked:
`--set KEY.PATH=VALUE` and the run command's shortcuts (--sink, --broker,
--duration). Each change records where it came from, so that an error about
its value names the flag rather than a line of the file."""

from __future__ import annotations

import argparse
import tomllib
from typing import Any, Mapping, Sequence

from harness.errors import UserError
from harness.profiles.keys import key_name


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """--set KEY.PATH=VALUE, for every command that takes a profile."""
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a profile key, repeatable: load.rate=500, sinks.0.topic=t, "
                             "load.schedule.time_scale=3600 (values are TOML; bare text is a string)")


def apply_overrides(data: dict, sets: Sequence[str], overrides: Mapping[str, Any]) -> tuple[dict[tuple, str], dict[tuple, str]]:
    """Apply the shortcuts, then each --set, to `data` (parsed TOML) in
    place; (origins, texts): per key path, the flag that set it and the
    text it was given."""
    origins: dict[tuple, str] = {}
    texts: dict[tuple, str] = {}
    _shortcuts(data, overrides, origins)
    for setting in sets:
        _set(data, setting, origins, texts)
    return origins, texts


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
    for existing in [k for k in table if key_name(k) == key]:
        del table[existing]
    table[key] = value


def _set(data: dict, setting: str, origins: dict[tuple, str], texts: dict[tuple, str]) -> None:
    """--set key.path=value: the value is read as TOML (500, true, ["a"],
    "text"), and taken as plain text when it is not TOML (embedded, demo/)."""
    name, sep, text = setting.partition("=")
    parts = tuple(int(p) if p.isdigit() else key_name(p) for p in name.strip().split("."))
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
                node = node.setdefault(next((k for k in node if key_name(k) == part), part), fresh)
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
