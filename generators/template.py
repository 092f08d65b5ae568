"""One line layout, rendered two ways from the same text: many lines at once
from index arrays (the fast path), or one line from a dict of values (the
path bad-data injection takes).

The fast path joins pre-encoded byte strings: each field's pool entries carry
the literal text that follows them, and neighbouring fields drawn from the same
entity (the same index array) are fused into one pool, so a line is only a
handful of pieces for `bytes.join`.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

FIELD = re.compile(r"\{([a-z_0-9]+)\}")


@dataclass(frozen=True)
class Template:
    fields: tuple[str, ...]
    literals: tuple[bytes, ...]  # literals[i] precedes fields[i]; the last ends the line

    @classmethod
    def parse(cls, text: str) -> "Template":
        parts = FIELD.split(text)
        literals = tuple(p.encode() for p in parts[0::2])
        return cls(fields=tuple(parts[1::2]), literals=literals[:-1] + (literals[-1] + b"\n",))

    def render_one(self, values: Mapping[str, bytes], skip: str = "") -> bytes:
        """One line; `skip` leaves out a field together with the text before it."""
        out = []
        for literal, field in zip(self.literals, self.fields):
            if field != skip:
                out += (literal, values[field])
        out.append(self.literals[-1])
        return b"".join(out)


@dataclass(frozen=True)
class Piece:
    """A run of neighbouring fields drawn from one entity, with their literals."""

    entity: str
    fields: tuple[str, ...]
    prefix: bytes
    suffixes: tuple[bytes, ...]

    def pool(self, pools: Mapping[str, Sequence[bytes]]) -> list[bytes]:
        columns = [pools[f] for f in self.fields]
        out = []
        for row in zip(*columns):
            out.append(self.prefix + b"".join(v + s for v, s in zip(row, self.suffixes)))
        return out


def pieces(template: Template, entity_of: Mapping[str, str]) -> list[Piece]:
    """Group the template's fields into fused pieces."""
    groups: list[list[int]] = []
    for i, field in enumerate(template.fields):
        if groups and entity_of[template.fields[groups[-1][-1]]] == entity_of[field]:
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for g, members in enumerate(groups):
        fields = tuple(template.fields[i] for i in members)
        prefix = template.literals[0] if g == 0 else b""
        suffixes = tuple(template.literals[i + 1] for i in members)
        out.append(Piece(entity_of[fields[0]], fields, prefix, suffixes))
    return out


def render_pieces(pools: Sequence[Sequence[bytes]], indices: Sequence[np.ndarray], n: int) -> list[bytes]:
    """Interleave the pools' entries into one list, row-major: row r owns
    items r*k .. r*k+k-1, so a caller can swap one row before joining."""
    k = len(pools)
    out: list[bytes] = [b""] * (n * k)
    for j, (pool, index) in enumerate(zip(pools, indices)):
        if n == 1:
            out[j] = pool[int(index[0])]
        else:
            out[j::k] = operator.itemgetter(*index.tolist())(pool)
    return out
