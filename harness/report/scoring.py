"""How well a parser under test told bad lines from good ones, judged
against a ground-truth file (harness/report/truth.py): per bad-data kind,
how many bad lines it caught (rejected) and missed (accepted), and how many
good lines it rejected, lines matched by the hash of their bytes.

With only the accepted lines, every bad line not among them counts as
caught; with only the rejected ones, every bad line not among them counts as
missed, and no good line is known to be accepted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from harness.report.truth import Truth, line_hash


@dataclass
class Score:
    totals: Counter[str]  # bad lines of each kind in the truth
    caught: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    good_rejected: int = 0
    good_accepted: int = 0
    seen_accepted: bool = False
    seen_rejected: bool = False

    def recall(self, kind: str | None = None) -> float | None:
        """Share of the bad lines (of `kind`, or all) that were caught."""
        total = self.totals[kind] if kind else self.totals.total()
        caught = self.caught[kind] if kind else self.caught.total()
        return caught / total if total else None

    def precision(self) -> float | None:
        """Share of the rejected lines that were bad (None without rejected lines)."""
        rejected = self.caught.total() + self.good_rejected
        return self.caught.total() / rejected if self.seen_rejected and rejected else None


def lines_of(path: str) -> Iterator[bytes]:
    """The lines of a file as bytes, newlines dropped (no decoding: bad
    lines need not be UTF-8)."""
    with open(path, "rb") as file:
        for line in file:
            yield line.removesuffix(b"\n")


def score(truth: Truth, accepted: Iterable[bytes] | None, rejected: Iterable[bytes] | None) -> Score:
    result = Score(truth.totals.copy(), seen_accepted=accepted is not None, seen_rejected=rejected is not None)
    kind_of = truth.kind_of
    seen_bad: Counter[str] = Counter()
    for line in accepted or ():
        kind = kind_of.get(line_hash(line))
        if kind is None:
            result.good_accepted += 1
        else:
            result.missed[kind] += 1
    for line in rejected or ():
        kind = kind_of.get(line_hash(line))
        if kind is None:
            result.good_rejected += 1
        else:
            seen_bad[kind] += 1
    for kind, total in truth.totals.items():
        if rejected is not None:
            result.caught[kind] = seen_bad[kind]
            if accepted is None:
                result.missed[kind] = total - seen_bad[kind]
        else:
            result.caught[kind] = total - result.missed[kind]
    return result
