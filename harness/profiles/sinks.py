"""The [[sinks]] of a profile: each sink's keys become its own command-line
flags, parsed by the sink's own parser, so every default and check of the
sink applies (and a refusal names the profile key)."""

from __future__ import annotations

import argparse
import importlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Mapping, Sequence

from harness.errors import UserError
from harness.profiles.keys import WRONG, Key, Where, is_number, key_name, normalized, read_table, suggest, toml_text
from harness.run.spec import SinkTarget

# Defaults that come from the environment (SASL_USERNAME, SASL_PASSWORD), not from the profile.
FROM_ENVIRONMENT = re.compile(r"sasl|username|password|secret|token", re.IGNORECASE)

SINK = {"name": Key("str", required=True), "producers": Key("int", 1, 1, 64)}


@dataclass(frozen=True)
class SinkSpec:
    name: str  # the sink's registry name
    module: str
    producers: int
    argv: tuple[str, ...] = field(repr=False)  # its command-line flags; may hold a password
    settings: dict = field(repr=False, compare=False)  # for resolved(): given keys and the sink's defaults

    def target(self) -> SinkTarget:
        """A fresh SinkTarget (fresh run ids for sinks that have them)."""
        return SinkTarget(self.name, self.module, sink_options(importlib.import_module(self.module), self.argv),
                          self.producers)



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
                keys.setdefault(key_name(flag[2:]), action)
    return parser, keys


def sink_options(module, argv: Sequence[str]) -> Any:
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


def read_sink(where: Where, index: int, raw: dict, texts: Mapping[tuple, str]) -> SinkSpec:
    from sinks import sink_module

    path = ("sinks", index)
    table = normalized(where, path, raw)
    common = read_table(where, path, {k: v for k, v in table.items() if k in SINK}, SINK, f"[[sinks]] #{index + 1}", texts)
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
            raise where.error((*path, name), f"unknown key {name!r} in {title}{suggest(name, [*SINK, *actions])}")
        flags, settings[name] = _flags(where, (*path, name), title, actions[name], value)
        argv += flags
    for name, action in actions.items():
        if action.required and not any(actions.get(k) is action for k in table):
            raise where.error(path, f"missing key {name!r} in {title}")
    try:
        sink_options(module, argv)
    except _Refused as error:
        raise _refusal(where, path, title, actions, error) from None
    for name, action in actions.items():
        if action.dest not in {actions[k].dest for k in settings}:
            default = _default(action)
            if default is not WRONG:
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
            raise where.error(path, f"{title} {path[-1]} must be true or false, not {toml_text(value)}")
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
    if is_number(value):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    raise where.error(path, f"{title} {path[-1]} cannot take {toml_text(value)}")


def _default(action: argparse.Action) -> Any:
    """The default resolved() shows for a flag the profile leaves out: only
    values the key would accept, and none that come from the environment."""
    default = action.default
    if default is None or FROM_ENVIRONMENT.search(action.dest):
        return WRONG
    if action.nargs == 0:
        return default if isinstance(default, bool) else WRONG
    if isinstance(default, list):
        return dict(d.partition("=")[::2] for d in default) if _is_settings(action) else list(default)
    if not isinstance(default, (str, int, float)) or isinstance(default, bool):
        return WRONG
    try:
        accepted = action.type is None or action.type(str(default)) == default
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        accepted = False
    return default if accepted else WRONG
