"""Where a run's lines went, from the counters its processes left behind:
generated = delivered + failed + unsent + in doubt, each with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from harness.run.accounting import account
from harness.report.histogram import Histogram
from harness.run.metrics import Layout, totals
from harness.transport.stats import COUNTERS, INDEX, Snapshot


def snapshot(generated: int, producers: list[dict[str, int]]) -> tuple[Snapshot, Layout]:
    """Slot 0: the generator; slots 1..: one sink's producers."""
    counters = np.zeros((1 + len(producers), len(COUNTERS)), dtype=np.int64)
    counters[0, INDEX["generated"]] = generated
    for slot, values in enumerate(producers, start=1):
        for name, value in values.items():
            counters[slot, INDEX[name]] = value
    slots = tuple(range(1, 1 + len(producers)))
    layout = Layout(sources=(0,), source_names=("generator-0",), sinks=(("kafka", slots),), observers=((),),
                    schedule=None, quiet=True)
    return Snapshot(counters, {}, {"publish": [Histogram() for _ in counters]}), layout


NAMES = {1: "producer-kafka-0", 2: "producer-kafka-1"}

CASES = [
    # (what happened, generated, producers' counters, ended, cause) -> (unsent, in doubt, problems)
    ("a clean run", 1000, [dict(sending=600, delivered=600), dict(sending=400, delivered=390, failed=10)], {}, "",
     (0, 0, 0)),
    ("a killed producer leaves its unacknowledged lines in doubt and its ring unsent", 1000,
     [dict(sending=600, delivered=550), dict(sending=300, delivered=300)], {"producer-kafka-0": "killed by signal SIGKILL"},
     "producer-kafka-0: killed by signal SIGKILL", (100, 50, 0)),
    ("a down sink's dropped lines are failed, not unsent", 1000, [dict(sending=400, delivered=400, failed=600, dropped=600)],
     {}, "", (0, 0, 0)),
    ("an abort leaves lines in the rings", 1000, [dict(sending=700, delivered=700)], {}, "aborted by a second Ctrl-C",
     (300, 0, 0)),
    ("lines never sent in a run nothing stopped early do not add up", 1000, [dict(sending=990, delivered=990)], {}, "",
     (10, 0, 1)),
    ("a normally ended producer with lines neither delivered nor failed does not add up", 1000,
     [dict(sending=1000, delivered=990)], {}, "", (0, 0, 1)),
]


@pytest.mark.parametrize("generated, producers, ended, cause, expected", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_every_line_is_delivered_failed_unsent_or_in_doubt(generated, producers, ended, cause, expected):
    snap, layout = snapshot(generated, producers)
    result = totals(snap, layout)
    problems = account(result, snap, layout, NAMES, ended, cause)
    sink = result.sinks[0]
    assert (sink.unsent, sink.in_doubt, len(problems)) == expected, problems
    if not problems:
        assert sink.delivered + sink.failed + sink.unsent + sink.in_doubt == generated
    assert bool(sink.unsent_reason) == bool(sink.unsent)
    assert bool(sink.in_doubt_reason) == bool(sink.in_doubt)


def test_reasons_name_the_cause_and_the_producer():
    snap, layout = snapshot(1000, [dict(sending=600, delivered=550)])
    result = totals(snap, layout)
    account(result, snap, layout, NAMES, {"producer-kafka-0": "killed by signal SIGKILL"},
            "producer-kafka-0: killed by signal SIGKILL")
    sink = result.sinks[0]
    assert sink.unsent_reason == "producer-kafka-0: killed by signal SIGKILL"
    assert sink.in_doubt_reason == "producer-kafka-0 killed by signal SIGKILL: sent, no acknowledgement"
