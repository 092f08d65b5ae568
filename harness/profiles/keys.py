"""Where a profile's keys are, and what each may hold: the line of every
key in the file (for errors that name it), typed keys with defaults and
ranges, and the table reader that checks a section against its keys."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Mapping, Sequence

from harness.errors import UserError

FOREVER = "forever"


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
        return tuple(key_name(a or b or c) for a, b, c in self.PART.findall(dotted))

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


def key_name(name: str) -> str:
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


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


WRONG = object()
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


def convert(kind: str, v: Any) -> Any:
    """A TOML value as the key's kind wants it, or WRONG."""
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
        case "number" if is_number(v):
            return float(v)
        case "strings" if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return tuple(v)
        case "numbers" if isinstance(v, list) and v and all(map(is_number, v)):
            return tuple(map(float, v))
        case "table" if isinstance(v, dict):
            return v
        case "tables" if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            return v
        case "repeat" if is_int or v == FOREVER:
            return v
    return WRONG


def toml_text(value: Any) -> str:
    """A value as TOML spells it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_text, value)) + "]"
    return str(value)


def range_text(key: Key) -> str:
    if key.high is not None:
        return f"between {key.low:g} and {key.high:g}"
    return f"greater than {key.low:g}" if key.above else f"at least {key.low:g}"


def typed(where: Where, path: tuple, value: Any, key: Key, title: str, texts: Mapping[tuple, str]) -> Any:
    if key.kind in ("str", "time") and not isinstance(value, str) and path in texts:
        value = texts[path]  # --set topic=2026 meant the text, not the number
    out = convert(key.kind, value)
    subject = f"{title} {path[-1]}" if len(path) > 1 else path[-1]
    if out is WRONG:
        raise where.error(path, f"{subject} must be {NOUNS[key.kind]}, not {toml_text(value)}")
    if key.low is not None and isinstance(out, (int, float)):
        low_ok = out > key.low if key.above else out >= key.low
        if not low_ok or (key.high is not None and out > key.high):
            raise where.error(path, f"{subject} must be {range_text(key)}, not {toml_text(value)}")
    return out


def suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (keys: {', '.join(known)})"


def normalized(where: Where, path: tuple, table: dict) -> dict:
    out: dict = {}
    for name, value in table.items():
        key = key_name(name)
        if key in out:
            raise where.error((*path, key), f"{key!r} is given twice (once with dashes, once with underscores)")
        out[key] = value
    return out


def read_table(where: Where, path: tuple, raw: Any, keys: Mapping[str, Key], title: str,
           texts: Mapping[tuple, str]) -> dict[str, Any]:
    """The keys of one table, typed and range-checked, defaults filled in."""
    if not isinstance(raw, dict):
        raise where.error(path, f"{title} must be a table, not {toml_text(raw)}")
    table = normalized(where, path, raw)
    for name in table:
        if name not in keys:
            raise where.error((*path, name), f"unknown key {name!r} in {title}{suggest(name, list(keys))}")
    out = {}
    for name, key in keys.items():
        if name in table:
            out[name] = typed(where, (*path, name), table[name], key, title, texts)
        elif key.required:
            raise where.error(path, f"missing key {name!r} in {title}")
        else:
            out[name] = key.default
    return out
