"""Bad-data injection: the kinds of corruption, and the helpers formats use to
say how each kind looks in their layout.

Syntactic kinds make a line that the format's strict parser rejects (see
BREAKS for which strictness each needs). Semantic kinds keep the line
well-formed but break a rule a line-by-line parser cannot see (time order, a
length limit); each has its own check. Each batch marks its bad lines (kind
and bytes), the ground truth a parser under test is judged against
(`generate --truth`, `logstorm score`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Mapping

from generators.template import Template

SYNTACTIC = ("bad_ip", "bad_method", "bad_protocol", "bad_status", "junk", "truncated", "invalid_utf8", "missing_field")
SEMANTIC = ("time_backwards", "oversized")
KINDS = SYNTACTIC + SEMANTIC
# Which parsers a kind breaks. Field-level kinds put a wrong value of the
# right shape in one field (BREW, HTTP/9.9, 600): a parser that checks only a
# field's shape (most grok patterns take any word as a method and any three
# digits as a status) accepts them; one that checks values rejects them.
# Structural kinds break the line's layout: a truncated line or one with a
# field left out fails any parser of the format; junk fails any parser that
# types the field it lands in (an IP, a number, a time), though a JSON
# decoder alone takes junk inside a string. Invalid UTF-8 breaks parsers
# that decode text (JSON, most languages' strings), not those that match bytes.
FIELD_LEVEL = ("bad_ip", "bad_method", "bad_protocol", "bad_status")
STRUCTURAL = ("junk", "truncated", "missing_field")
ENCODING = ("invalid_utf8",)
BREAKS = {
    **{kind: "parsers that check field values (not shape-only ones)" for kind in FIELD_LEVEL},
    "junk": "parsers that type the field it lands in (IP, number, time); not a bare JSON decoder",
    "truncated": "any parser of the format",
    "missing_field": "any parser of the format",
    "invalid_utf8": "parsers that decode UTF-8 (not byte-level ones)",
    "time_backwards": "no parser: a time-order check",
    "oversized": "no parser: a line-length limit (8 KiB)",
}

# An oversized line is longer than this many bytes (newline included): the
# default line limit of common shippers and HTTP servers.
OVERSIZED_LIMIT = 8192
# A line stamped backwards goes back at least this far, so that it lands
# before every line already written, not merely within the same second.
BACKWARDS_SECONDS = (3600, 4 * 3600)

JUNK = (b"\x01", b"\x7f", b"#!", b"~^~", b"%zz", b"\x1b[0m", b"{{", b"\\", b"\t\t")
LETTERS = bytes(b"abcdefghijklmnop"[i % 16] for i in range(256))
INVALID_UTF8 = (b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xe2\x82")


@dataclass
class Line:
    """One line on its way to being corrupted."""

    template: Template
    values: dict[str, bytes]
    time: float
    restamp: Callable[[float], Mapping[str, bytes]]
    rng: random.Random
    skip: str = field(default="")

    def render(self) -> bytes:
        return self.template.render_one(self.values, self.skip)


Corruption = Callable[[Line], bytes]


def replace(name: str, choices: tuple[bytes, ...]) -> Corruption:
    """Put one of `choices` where field `name` was."""

    def corrupt(line: Line) -> bytes:
        line.values[name] = line.rng.choice(choices)
        return line.render()

    return corrupt


def junk(*names: str) -> Corruption:
    """Insert junk characters into one of the named (strictly typed) fields."""

    def corrupt(line: Line) -> bytes:
        name = line.rng.choice(names)
        value = line.values[name]
        at = line.rng.randint(0, len(value))
        line.values[name] = value[:at] + line.rng.choice(JUNK) + value[at:]
        return line.render()

    return corrupt


def missing(*names: str) -> Corruption:
    """Leave one of the named fields out, with the separator before it."""

    def corrupt(line: Line) -> bytes:
        line.skip = line.rng.choice(names)
        return line.render()

    return corrupt


def truncated(line: Line) -> bytes:
    """Cut the line short: at least its last byte is lost."""
    text = line.render()[:-1]
    return text[: line.rng.randint(len(text) // 3, len(text) - 1)] + b"\n"


def invalid_utf8(line: Line) -> bytes:
    text = line.render()
    at = line.rng.randint(1, len(text) - 2)
    return text[:at] + line.rng.choice(INVALID_UTF8) + text[at:]


def backwards(line: Line) -> bytes:
    line.values.update(line.restamp(line.time - line.rng.uniform(*BACKWARDS_SECONDS)))
    return line.render()


def oversized(name: str, start: bytes = b"?", empty: bytes = b"") -> Corruption:
    """Grow field `name` (a URL target, or with `start=b""` a bare query
    string) with a filler parameter until the line is past OVERSIZED_LIMIT.
    `empty` is how the format writes an absent value."""

    def corrupt(line: Line) -> bytes:
        value = line.values[name]
        if value == empty:
            value = b""
        if start and start not in value:
            sep = start
        else:
            sep = b"&" if value else b""
        letters = line.rng.randbytes(OVERSIZED_LIMIT + 64).translate(LETTERS)
        line.values[name] = value + sep + b"filler=" + letters
        return line.render()

    return corrupt


def select(available: Mapping[str, Corruption], wanted: tuple[str, ...] | None) -> tuple[str, ...]:
    """The kinds a run injects: those asked for (all by default) that the format has."""
    if wanted is None:
        return tuple(k for k in KINDS if k in available)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown bad-data kind {unknown[0]!r} (kinds: {', '.join(KINDS)})")
    return tuple(k for k in KINDS if k in wanted and k in available)


def truncated_before_last(line: Line) -> bytes:
    """Cut the line short before its last field: for layouts ending in a bare
    number, where a cut inside that number would leave a valid line."""
    text = line.render()
    end = len(text) - len(line.template.literals[-1]) - len(line.values[line.template.fields[-1]])
    return text[: line.rng.randint(len(text) // 3, end - 1)] + b"\n"
