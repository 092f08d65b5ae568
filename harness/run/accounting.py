"""Where every line of a run went, per sink:

    generated = delivered + failed + unsent + in doubt

from counters in shared memory that outlive the process that wrote them.
A producer counts "sending" before each send, and "delivered"/"failed" as
acknowledgements come; "dropped" lines failed without being sent (the sink
was down). So:

    unsent   = generated - sending - dropped    never handed to the sink
    in doubt = sending - delivered - (failed - dropped)
               handed to the sink, never acknowledged: only a producer that
               did not end normally can leave any, and nobody can tell
               whether they arrived

A normally ended producer with lines in doubt, unsent lines in a run that
nothing stopped early, or a negative part: the counts do not add up, and
the run says so.
"""

from __future__ import annotations

from harness.run.metrics import Layout, Totals
from harness.transport.stats import Snapshot


def account(totals: Totals, snapshot: Snapshot, layout: Layout, producer_names: dict[int, str], ended: dict[str, str],
            cause: str) -> list[str]:
    """Fill each sink's unsent and in-doubt parts, with their reasons.

    `ended`: how each child that did not report normally ended, by name
    ("killed by signal SIGKILL"); `cause`: why the run stopped early, if it
    did ("aborted by a second Ctrl-C", "generator-0: killed by signal
    SIGKILL"), empty if it did not. Returns one line per sink whose counts
    do not add up."""
    problems = []
    for sink, (name, slots) in zip(totals.sinks, layout.sinks):
        doubtful = []
        for slot in slots:
            left = snapshot.value(slot, "sending") - snapshot.value(slot, "delivered") - (
                snapshot.value(slot, "failed") - snapshot.value(slot, "dropped"))
            producer = producer_names[slot]
            if producer in ended:
                sink.in_doubt += left
                if left:
                    doubtful.append(f"{producer} {ended[producer]}")
            elif left:
                problems.append(f"{name}: {producer} ended normally with {left:,} lines neither delivered nor failed")
        sink.in_doubt_reason = "; ".join(doubtful) + ": sent, no acknowledgement" if doubtful else ""
        sink.unsent = totals.generated - sink.sending - sink.dropped
        sink.unsent_reason = (cause or "the run ended before they were sent") if sink.unsent else ""
        if sink.unsent < 0 or sink.in_doubt < 0:
            problems.append(f"{name}: counts do not add up: {totals.generated:,} generated, {sink.sending:,} handed to "
                            f"the sink, {sink.delivered:,} delivered, {sink.failed:,} failed")
        elif sink.unsent and not cause:
            problems.append(f"{name}: {sink.unsent:,} lines were generated but never handed to the sink")
    return problems

