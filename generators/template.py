"""One line layout, rendered two ways from the same text: many lines at once
from index arrays (the fast path), or one line from a dict of values (the
path bad-data injection takes).

The fast path joins pre-encoded byte strings: each field's pool entries carry
the literal text that follows them, and neighbouring fields drawn from the same
entity (the same index array) are fused into one pool, so a line is only a
handful of pieces for `bytes.join`.
"""

from __future__ import annotations

from itertools import repeat
import re
from typing import Mapping, NamedTuple, Sequence

import numpy as np

FIELD = re.compile(r"\{([a-z_0-9]+)\}")


class Template(NamedTuple):
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


class Piece(NamedTuple):
    """A run of neighbouring fields drawn from one entity, with their literals."""

    entity: str
    fields: tuple[str, ...]
    prefix: bytes
    suffixes: tuple[bytes, ...]

    def pool(self, pools: Mapping[str, Sequence[bytes]]) -> list[bytes]:
        """One entry per row of the entity. Equal entries are one object (many
        clients share a user agent): fewer objects, fewer cache misses."""
        if len(self.fields) == 1:  # joined once per distinct value: most pools repeat a few
            column = pools[self.fields[0]]
            distinct = dict.fromkeys(column)
            if len(distinct) == len(column):  # all different, and so are their joins
                return list(map(b"".join, zip(repeat(self.prefix), column, repeat(self.suffixes[0]))))
            joined = {value: b"".join((self.prefix, value, self.suffixes[0])) for value in distinct}
            return list(map(joined.__getitem__, column))
        parts = [repeat(self.prefix)]
        for name, suffix in zip(self.fields, self.suffixes):
            parts += (pools[name], repeat(suffix))
        texts = list(map(b"".join, zip(*parts)))
        distinct: dict[bytes, bytes] = {}
        return list(map(distinct.setdefault, texts, texts))


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


class Gather:
    """Every piece's pool in one array of objects, so that a batch is a single
    gather (numpy's `take`, then one `tolist`): row r of the output is items
    r*k .. r*k+k-1 (k pieces), and a caller can swap one row before joining.
    Pools that change with every batch (the time of day) live at the end of
    the array and are refilled per batch."""

    def __init__(self, pools: Sequence[Sequence[bytes] | None]) -> None:
        self.dynamic = [i for i, pool in enumerate(pools) if pool is None]
        self.offsets = np.zeros(len(pools), np.int64)
        entries: list[bytes] = []
        for i, pool in enumerate(pools):
            if pool is not None:
                self.offsets[i] = len(entries)
                entries.extend(pool)
        self.fixed = len(entries)
        self.big = np.array(entries, dtype=object)

    def render(self, indices: Sequence[np.ndarray], per_batch: Sequence[Sequence[bytes]]) -> list[bytes]:
        """`indices[i]` picks from pool i; `per_batch` are this batch's
        dynamic pools, in order."""
        needed = self.fixed + sum(len(pool) for pool in per_batch)
        if needed > len(self.big):
            grown = np.empty(2 * needed, dtype=object)
            grown[:self.fixed] = self.big[:self.fixed]
            self.big = grown
        at = self.fixed
        for i, pool in zip(self.dynamic, per_batch):
            self.offsets[i] = at
            self.big[at:at + len(pool)] = pool
            at += len(pool)
        return self.big.take((np.stack(indices, axis=1) + self.offsets).ravel()).tolist()
