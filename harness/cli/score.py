"""Score a parser under test against the ground truth of a generated file.

    generate -l apache -i 100000 -b 40 --truth apache.truth > apache.log
    my-parser apache.log --ok parsed.log --dead dead.log
    logstorm score --truth apache.truth --accepted parsed.log --rejected dead.log

PARSED and DEAD hold the raw lines the parser kept and dropped, one per line
as they were in the input (either may be left out). Lines are matched to
the truth by the hash of their bytes. The report gives, per bad-data kind,
the bad lines caught and missed and the share caught (recall), then the
good lines wrongly rejected and the share of rejected lines that were bad
(precision). --json prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
from typing import Sequence

import orjson

from harness.errors import UserError


EXAMPLES = """\
examples:
  generate -l apache -i 100000 -b 40 --truth apache.truth > apache.log
  logstorm score --truth apache.truth --accepted parsed.log --rejected dead.log
  logstorm score --truth apache.truth --rejected dead.log --json
"""

def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.add_argument("--truth", required=True, metavar="FILE", help="the truth file of `generate --truth` or `logstorm run --truth`")
    parser.add_argument("--accepted", default=None, metavar="PARSED", help="the lines the parser accepted")
    parser.add_argument("--rejected", default=None, metavar="DEAD", help="the lines the parser rejected (dead letters)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def run(args: argparse.Namespace) -> int:
    from harness.report.scoring import lines_of, score
    from harness.report.truth import BadTruth, read_truth

    if args.accepted is None and args.rejected is None:
        raise UserError("score: give --accepted, --rejected or both")
    try:
        truth = read_truth(args.truth)
        result = score(truth, _lines(lines_of, args.accepted), _lines(lines_of, args.rejected))
    except BadTruth as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot read {error.filename}: {error.strerror}") from None
    print(orjson.dumps(as_dict(result), option=orjson.OPT_INDENT_2).decode() if args.json else table(result))
    return 0


def _lines(lines_of, path: str | None):
    return None if path is None else list(lines_of(path))


def percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"


def table(result) -> str:
    rows = [("kind", "bad lines", "caught", "missed", "caught %")]
    for kind in sorted(result.totals):
        rows.append((kind, f"{result.totals[kind]:,}", f"{result.caught[kind]:,}", f"{result.missed[kind]:,}",
                     percent(result.recall(kind))))
    rows.append(("all bad lines", f"{result.totals.total():,}", f"{result.caught.total():,}", f"{result.missed.total():,}",
                 percent(result.recall())))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    good = f"good lines wrongly rejected: {result.good_rejected:,}" if result.seen_rejected else \
        "good lines wrongly rejected: unknown (no --rejected)"
    lines += ["", good, f"recall {percent(result.recall())}, precision {percent(result.precision())}"]
    return "\n".join(lines)


def as_dict(result) -> dict:
    return {
        "kinds": {kind: {"bad": result.totals[kind], "caught": result.caught[kind], "missed": result.missed[kind],
                         "recall": result.recall(kind)} for kind in sorted(result.totals)},
        "good_rejected": result.good_rejected if result.seen_rejected else None,
        "recall": result.recall(),
        "precision": result.precision(),
    }
