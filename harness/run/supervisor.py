"""The supervisor: plans the processes of a run, starts them, watches them,
stops them, and adds up what happened.

    supervisor ── fork ──> generator 0..N-1 ──ring[g][s][p]──> producer s.p ──> sink s
               ── fork ──> metrics (reads every stat slot once a second)
               ── thread ─> reader (for `stream`, in place of the generators)

Ctrl-C, SIGTERM or SIGHUP: stop generating, drain the rings to the sinks,
report. A second one: abort (exit 130), every child gone within about a
second. A child that dies, is stopped (SIGSTOP) or makes no progress for
HUNG_SECONDS ends the run (exit 1, naming it and what happened to it). No
wait here is without a deadline, and nothing here takes a lock a dying child
could hold (see transport/flags.py). Whatever happens, each sink's lines add
up: generated = delivered + failed + unsent + in doubt (run/accounting.py).
Shared memory and children never outlive the run.
"""

from __future__ import annotations

import functools
import importlib
import multiprocessing as mp
import os
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from typing import Any, Iterable

from generators.spec import LineSpec
from harness.errors import describe
from harness.run.accounting import account
from harness.run.child import run_child
from harness.run.controls import WAIT_SLICE, Controls
from harness.run.watch import JOIN_SECONDS, Watch
from harness.run.generator import Outlet, generator_role, reader_role
from harness.run.metrics import Layout, Totals, metrics_role, span, totals
from harness.run.observer import observer_role
from harness.run.preamble import with_preamble
from harness.run.producer import producer_role
from harness.transport.ring import Ring
from harness.run.spec import RunSpec, SinkTarget
from harness.stops import StopSignals
from harness.transport.stats import StatsBoard
from harness.run.topology import Plan, plan
from harness.transport.flags import Flags
from harness.transport.claims import Claims

READY_SECONDS = 60.0
# A paced run's line 0 is due this long after every process is ready: the
# sources fill the rings meanwhile, so that the first lines are not late by
# the time it takes to render or read the first batch and hand it over. A
# replay promises each line its time within 20 ms, and its reader (a thread
# of this process, at the common priority) took up to 0.16 s on a busy host.
START_LEAD = 0.1
PER_LINE_START_LEAD = 0.5
INTERRUPTED = 130
PIECE_SECONDS = 0.02
OBSERVER_GRACE = 1.0
# After an abort, children get this long to end by themselves, then SIGKILL.
ABORT_GRACE = 0.8
ABORTED_BY_USER = "aborted by a second Ctrl-C"
THREADS_GONE_SECONDS = 0.05


@dataclass
class Outcome:
    totals: Totals
    status: int  # exit status: 0, 1 (failures or a crash), 130 (interrupted twice)
    errors: list[str] = field(default_factory=list)  # "generator-1: killed by signal 9"
    failures: dict[str, int] = field(default_factory=dict)  # failed lines by reason
    fingerprints: dict[int, list[Any]] = field(default_factory=dict)  # per sink, per producer: for sinks that verify
    notes: list[str] = field(default_factory=list)  # what sinks' after-run checks found; a sink found down
    series: list[dict] = field(default_factory=list)  # the metrics' per-second records
    interrupted: bool = False
    seconds: float = 0.0  # from the common start to the last delivery (the span its rates are over)
    wall_seconds: float = 0.0  # the whole of supervise(): set-up, the run, stopping
    ended: dict[str, str] = field(default_factory=dict)  # children that did not report: how they ended
    aborted_by_user: bool = False
    reader_gone: str = ""  # a sink's reader went away (`| head`): the run stopped there, by the reader's choice
    read_back: dict = field(default_factory=dict)  # what --read-back found at the far end (harness/readback/tally.py)


def supervise(spec: RunSpec, chunks: Iterable[bytes] | None = None) -> Outcome:
    """Run `spec`. For a StreamInput, `chunks` are the lines read (whole lines)."""
    began = time.monotonic()
    topology = plan(spec)
    with ExitStack() as resources:
        spec = replace(spec, sinks=tuple(_ready_target(with_preamble(target, spec.source), resources) for target in spec.sinks))
        if spec.read_back is not None:
            # Here and below, not at the top: the read-back and its readers
            # (logging among them) cost every run's start 6-12 ms of imports,
            # for the few runs that read back.
            from harness.run.read_back import check_read_back

            check_read_back(spec.read_back)
        context = mp.get_context(_start_method())
        rings = [Ring.create(spec.ring_bytes, context) for _ in topology.rings]
        for ring in rings:
            resources.callback(ring.close)
        board = StatsBoard.create(topology.slots)
        resources.callback(board.close)
        events = Flags(context, ("stop", "abort", "go", "metrics_done", "observers_done"))
        ready = context.Semaphore(0)
        start_at = context.Value("d", 0.0, lock=False)
        doorbells = {p.name: context.Semaphore(0) for p in topology.role("producer")}

        def controls(slot: int | None) -> Controls:
            return Controls(board.handle, slot, spec.schedule, ready, events["go"], start_at, events["stop"], events["abort"])

        def outlets(ring_indices: tuple[int, ...]) -> list[Outlet]:
            out = []
            for r in ring_indices:
                ring = topology.rings[r]
                feeds = next(p for p in topology.role("producer") if r in p.rings)
                out.append(Outlet(rings[r].handle, ring.sink, ring.producer, doorbells[feeds.name]))
            return out

        children: dict[str, tuple[Any, Any]] = {}  # name -> (process, report connection)
        resources.callback(_reap, children, events["abort"])  # before any start: a failed start still reaps the rest
        sink_of = {p.name: p.sink for p in topology.processes}

        def start(name: str, role: Any, *args: Any) -> None:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=run_child, args=(send, role, *args), name=name)
            process.start()
            send.close()
            children[name] = (process, receive)

        piece_lines = _piece_lines(spec)
        layout = Layout.of(topology, spec)
        # Shard K of N takes the batches whose index is K mod N, its generators claiming them in turn.
        claims = None if not isinstance(spec.source, LineSpec) else Claims.create(
            context, spec.lines, spec.source.batch_lines, spec.source.realtime, spec.shard, spec.shards)
        reader: threading.Thread | None = None
        reader_result: dict[str, Any] = {}
        outcome = Outcome(totals=Totals(), status=0)
        # From here a Ctrl-C is a stop like any other, also while the line
        # factory builds and the children start.
        with StopSignals(lambda count: (events["stop"] if count == 1 else events["abort"]).set()) as signals:
            source: Any = spec.source
            # Generators start last: the other children set up (a sink connects)
            # while the supervisor builds the line factory once, which forked
            # generators then share instead of each building its own pools.
            for p in sorted(topology.processes, key=lambda p: p.role == "generator"):
                if p.role == "generator" and source is spec.source and context.get_start_method() == "fork":
                    source = _line_factory(spec.source)
                if p.role == "generator":
                    start(p.name, generator_role, source, claims, outlets(p.rings), controls(p.slot), piece_lines,
                          spec.tag, spec.truth)
                elif p.role == "producer":
                    rings_in = [rings[r].handle for r in p.rings]
                    start(p.name, producer_role, spec.sinks[p.sink], p.rank, p.of, rings_in, doorbells[p.name], controls(p.slot))
                elif p.role == "observer":
                    start(p.name, observer_role, spec.sinks[p.sink], controls(p.slot), events["observers_done"])
                elif p.role == "read-back":
                    from harness.run.read_back import read_back_role

                    start(p.name, read_back_role, spec.read_back, controls(p.slot), layout.sources, events["observers_done"])
                elif p.role == "metrics":
                    start(p.name, metrics_role, board.handle, layout, controls(None), events["metrics_done"])
                elif p.role == "reader":
                    reader = threading.Thread(target=_reader_thread, name="reader", daemon=True,
                                              args=(chunks, spec.lines, outlets(p.rings), controls(p.slot), piece_lines, reader_result))
            if reader is not None:
                reader.start()
            watch = Watch(children, board, {p.name: p.slot for p in topology.processes if p.role in ("generator", "producer")},
                          outcome, sink_of)
            _start_together(watch, topology, ready, events, start_at, reader is not None, spec.start_at, _lead(spec))
            _watch(watch, spec, events, start_at, reader, reader_result)
            ended = time.time()
            outcome.interrupted = signals.count > 0
            outcome.aborted_by_user = signals.count > 1
            if outcome.aborted_by_user:
                outcome.status = INTERRUPTED
        snapshot = board.snapshot()
        outcome.totals = totals(snapshot, layout)
        outcome.seconds = _span(outcome.totals, start_at.value, ended)
        cause = ABORTED_BY_USER if outcome.aborted_by_user else (outcome.errors[0] if outcome.errors else outcome.reader_gone)
        outcome.errors += account(outcome.totals, snapshot, layout, {p.slot: p.name for p in topology.role("producer")},
                                  outcome.ended, cause)
        for target, sink in zip(spec.sinks, outcome.totals.sinks):
            hook = getattr(importlib.import_module(target.module), "unacknowledged", None)
            sink.unacknowledged = bool(hook and hook(target.options))
        # A shard's target also holds the other shards' lines: its check (--verify)
        # is made once, on the merged fingerprints (harness/cluster).
        if not events["abort"].is_set() and spec.shards == 1:
            _after_run(spec, outcome, start_at.value)
        _clean_up(spec, outcome)
    lost = any(sink.in_doubt or (sink.unsent and not outcome.reader_gone) for sink in outcome.totals.sinks)
    lost = lost or bool(outcome.read_back.get("missing"))
    if (outcome.totals.failed or outcome.errors or lost) and not outcome.status:
        outcome.status = 1
    outcome.wall_seconds = time.monotonic() - began
    return outcome


def _span(run: Totals, start: float, ended: float) -> float:
    """From the common start to the last delivery of any sink; to the end of
    the run when nothing was delivered."""
    if not start:
        return 0.0
    spans = [span(sink, start) for sink in run.sinks if sink.last_delivery]
    return max(spans) if spans else ended - start


def _start_method() -> str:
    """fork when this process has one thread, else spawn.

    A spawned child is a new interpreter that imports numpy, the sinks and
    the harness again: about 0.35 s of CPU per child, paid by every run and
    taken from the broker on a 2-core machine. A forked child starts in
    milliseconds with all that already loaded. Forking is safe only without
    other threads: a lock another thread held at the fork would stay held
    for ever in the child. Here no thread runs when the children start (the
    sinks' checks and the embedded broker's start leave none: librdkafka's
    handles are destroyed when they return; the reader thread starts after
    the children), so the run forks; a program that calls supervise() with
    threads of its own gets spawned children instead. Either way children
    die with the supervisor (PR_SET_PDEATHSIG, run/child.py) and leave at
    os._exit, running none of the parent's clean-ups.

    A thread that has ended can stay listed in /proc/self/task for a moment
    after it was joined (it is still on its way out of the kernel): on a
    busy host, librdkafka's main thread from the Kafka check was seen there
    by 4 of 12 `run --sink kafka` starts, which then spawned their children
    and started 0.3 s later. Threads that are not Python's are given
    THREADS_GONE_SECONDS to leave."""
    if threading.active_count() > 1:  # a Python thread of the caller's: it lives on
        return "spawn"
    if not os.path.isdir("/proc/self/task"):
        return "fork"
    deadline = time.monotonic() + THREADS_GONE_SECONDS
    while len(os.listdir("/proc/self/task")) > 1:
        if time.monotonic() >= deadline:
            return "spawn"
        time.sleep(THREADS_GONE_SECONDS / 50)
    return "fork"


@functools.lru_cache(maxsize=1)
def _line_factory(spec: LineSpec) -> Any:
    """The line factory forked generators share, kept for the next run of
    the same lines (a profile's repetitions, find-rate's steps): building
    one takes 50-70 ms. Keeping it also spares every run's end its freeing:
    7-8 ms for a hundred thousand objects whose pages forked children had
    shared, where the command then leaves without freeing anything."""
    from generators.factory import LineFactory

    return LineFactory(spec)


def _piece_lines(spec: RunSpec) -> int:
    """Lines per ring record. Paced, a record holds about PIECE_SECONDS of
    traffic at the peak rate, so that the producers of a sink take turns at
    a fine grain and share the load; unpaced, whole batches."""
    if spec.schedule is None:
        return 1 << 30
    span = spec.schedule.duration or 24 * 3600.0
    peak = max(spec.schedule.rate_at(span * i / 4096) for i in range(4096))
    return max(1, int(peak * PIECE_SECONDS))


def _ready_target(target: SinkTarget, resources: ExitStack) -> SinkTarget:
    """Let the sink set up what the run needs (an embedded broker, say: its
    `prepare` registers the teardown), then check the target is usable,
    before any process starts."""
    module = importlib.import_module(target.module)
    prepare = getattr(module, "prepare", None)
    if prepare is not None:
        target = replace(target, options=prepare(target.options, resources))
    module.check(target.options)
    return target


def _after_run(spec: RunSpec, outcome: Outcome, started: float) -> None:
    """Each sink's own check of what it delivered (Kafka's --verify), while
    what `prepare` set up still runs."""
    for s, (target, sink) in enumerate(zip(spec.sinks, outcome.totals.sinks)):
        hook = getattr(importlib.import_module(target.module), "after_run", None)
        if hook is None:
            continue
        verdict = hook(target.options, sink.delivered, outcome.fingerprints.get(s, []), started)
        if verdict is not None:
            ok, message = verdict
            (outcome.notes if ok else outcome.errors).append(f"{target.name}: {message}")


def _clean_up(spec: RunSpec, outcome: Outcome) -> None:
    """Each sink's undoing of what a dead producer left half-done, whatever
    happened to the run."""
    for target in spec.sinks:
        hook = getattr(importlib.import_module(target.module), "cleanup", None)
        if hook is not None and (message := hook(target.options)):
            outcome.notes.append(f"{target.name}: {message}")


def _reader_thread(chunks: Iterable[bytes], limit: int, outlets: list[Outlet], controls: Controls, piece_lines: int,
                   result: dict) -> None:
    try:
        reader_role(chunks, limit, outlets, controls, piece_lines)
    except BaseException as error:  # reported by the supervisor like a child's error
        result["error"] = describe(error)
    result["done"] = True


def _lead(spec: RunSpec) -> float:
    if spec.schedule is not None and spec.schedule.per_line:
        return PER_LINE_START_LEAD
    return START_LEAD if spec.paced else 0.0


def _start_together(watch: Watch, topology: Plan, ready, events, start_at, has_reader: bool, at: float | None,
                    lead: float) -> None:
    """Wait until every role is set up, then give them one start time: `at`
    (a shard's --start-at, waited for) or `lead` seconds from now."""
    expected = sum(p.role != "reader" for p in topology.processes) + has_reader
    deadline = time.monotonic() + READY_SECONDS
    for _ in range(expected):
        while not ready.acquire(timeout=WAIT_SLICE):
            watch.collect()
            watch.check_alive()
            if watch.outcome.errors or events["abort"].is_set() or time.monotonic() > deadline:
                if time.monotonic() > deadline:
                    watch.outcome.errors.append(f"processes not ready after {READY_SECONDS:.0f} s")
                events["abort"].set()
                events["go"].set()
                return
    while at is not None and (wait := at - time.time()) > 0 and not events["stop"].wait(min(wait, WAIT_SLICE)):
        watch.check_alive()
    start_at.value = time.time() + lead if at is None else at
    events["go"].set()


def _watch(watch: Watch, spec: RunSpec, events, start_at, reader, reader_result: dict) -> None:
    """Until every producer has finished, or, after an abort, every child
    has ended (killed ABORT_GRACE after the abort if it has not)."""
    outcome, children = watch.outcome, watch.children
    deadline = None if spec.duration is None or spec.paced else start_at.value + spec.duration
    aborted_at = None
    while True:
        watch.check_alive()
        watch.collect()
        if reader_result.get("error"):
            outcome.errors.append(f"reader: {reader_result.pop('error')}")
        if outcome.errors and not events["abort"].is_set():
            events["abort"].set()
        if deadline is not None and time.time() >= deadline:
            events["stop"].set()
        if events["abort"].is_set():
            aborted_at = aborted_at or time.monotonic()
            if time.monotonic() - aborted_at > ABORT_GRACE:
                watch.kill_the_rest(sparing="metrics")  # it holds the per-second series
        if not watch.alive("producer") or (aborted_at and not [n for n in watch.alive() if n != "metrics"]):
            break
        # Reports not read yet, and the exits of children still running (one
        # that has reported still has to exit); not the sentinel of a child
        # already reaped, which stays ready for ever.
        wait([conn for _, conn in children.values() if not conn.closed]
             + [process.sentinel for process, _ in children.values() if process.is_alive()], timeout=WAIT_SLICE)
    watch.collect()  # a producer that died just before the loop saw it gone
    if outcome.errors and not events["abort"].is_set():
        events["abort"].set()  # the generators feeding a dead producer would wait on its ring
        aborted_at = time.monotonic()
    grace = 0.2 if aborted_at else JOIN_SECONDS
    if reader is not None:
        events["stop"].set()
        reader.join(grace)
    observers = [process for name, (process, _) in children.items() if name.startswith("observer")]
    if observers:
        events["abort"].wait(OBSERVER_GRACE)  # let the last deliveries reach the observers
        events["observers_done"].set()
        for process in observers:
            process.join(grace)
    if "read-back" in children:
        events["observers_done"].set()  # sending has ended: the read-back waits for the rest, then reports
        from harness.run.read_back import LONGEST_AFTER

        process, deadline = children["read-back"][0], time.monotonic() + LONGEST_AFTER + spec.read_back.quiet + JOIN_SECONDS
        while process.is_alive() and not events["abort"].is_set() and time.monotonic() < deadline:
            process.join(WAIT_SLICE)
    events["metrics_done"].set()
    children["metrics"][0].join(grace)
    if aborted_at:
        watch.kill_the_rest()
        for process, _ in children.values():
            process.join(1.0)
    watch.collect()


def _reap(children, abort) -> None:
    """Every child ends with the run: joined, else killed (children ignore
    SIGTERM: harness/run/child.py)."""
    for process, _ in children.values():
        process.join(JOIN_SECONDS if not abort.is_set() else 1.0)
    for process, _ in children.values():
        if process.is_alive():
            process.kill()
            process.join(2.0)
