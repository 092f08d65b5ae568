"""`logstorm run PROFILE --cluster ray[:ADDRESS] --shards N`: the run's N
shards on a running Ray cluster, one per node, merged into one result.

    coordinator (this process, a Ray driver)
      ├─ placement group, STRICT_SPREAD: N bundles, one per node
      ├─ actor k (harness/cluster/shard.py) ── subprocess: logstorm run ... --shard k/N --start-at T
      │     per-second records (--feed) ──> poll() ──┐
      └─ live dashboard: the sum, one row per shard <─┘ ; at the end, the results merged (report/merge.py)

Ray places and starts; the shards are ordinary runs, so the harness's
processes and shared memory stay outside Ray's workers. The common start
is START_MARGIN seconds ahead, enough for every shard to start. Ctrl-C
stops every shard (each drains and reports) and merges what came back; a
second one kills them. A shard that dies or cannot start fails the run,
naming the shard and its node, and the others are stopped.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cluster.live import LiveSeconds
from harness.errors import UserError
from harness.extras import require
from harness.report.merge import fingerprints, merge, summary
from harness.stops import StopSignals

START_MARGIN = 5.0  # seconds from placing the shards to their common start
POLL_SECONDS = 0.5
CONNECT_SECONDS = 5.0
READY_SECONDS = 60.0  # for the placement group and the actors to come up
DRAIN_SECONDS = 60.0  # for a stopped shard to drain and write its result
ABORTED = 130
# Our flags that the coordinator sets itself for each shard, never passed through.
OWN_FLAGS = ("--cluster", "--shards", "--results", "--quiet", "-q", "--shard", "--start-at", "--feed")
LOOPBACK = "127.0.0.1"
SHARD = "shard"  # a custom resource: nodes that offer it take shards (else CPU bundles)


@dataclass
class Shard:
    index: int
    actor: Any
    node: str = ""  # "NODE_ID (IP)"
    offset: float | None = None  # its clock less ours, seconds
    returncode: int | None = None
    error: str = ""  # why it failed, once it did


@dataclass
class Progress:
    stops: int = 0  # Ctrl-C, SIGTERM, SIGHUP received
    errors: list[str] = field(default_factory=list)


def run_on_cluster(args: Any, spec: Any, name: str, folder: str | None, argv: list[str]) -> int:
    """`argv`: the run's own arguments after `run`, passed on to every shard."""
    engine, _, address = args.cluster.partition(":")
    if engine != "ray":
        raise UserError(f"--cluster {args.cluster}: the engine must be ray (ray or ray:ADDRESS)")
    if args.shard is not None:
        raise UserError("--shard and --cluster exclude each other: the cluster gives each shard its --shard")
    require("ray", "--cluster ray")
    if address:
        _reachable(address)
    local = {}
    if address.startswith((LOOPBACK + ":", "localhost:")):
        # A cluster on the loopback address is one on this machine: the driver joins it
        # there too. Ray would swap the address for the machine's other interface,
        # which the cluster does not listen on; this setting (read when ray is
        # imported) keeps it on loopback.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        local = {"_node_ip_address": LOOPBACK}
    import ray

    try:
        ray.init(address=address or "auto", logging_level=logging.ERROR, log_to_driver=False, configure_logging=True, **local)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise UserError(f"cannot reach the Ray cluster at {address or 'auto'}: {error}".splitlines()[0]) from None
    shards: list[Shard] = []
    group = None
    try:
        nodes = [node for node in ray.nodes() if node["Alive"]]
        count = args.shards or len(nodes)
        _check_targets(spec, count)
        if count > len(nodes):
            raise UserError(f"--shards {count} needs {count} nodes, one per shard; the Ray cluster has {len(nodes)}")
        group, shards = _place(ray, count, nodes)
        start_at = time.time() + START_MARGIN
        profile = _profile_file(args)
        for shard in shards:
            ray.get(shard.actor.start.remote(_shard_argv(argv, shard.index, count, start_at), profile), timeout=READY_SECONDS)
        progress = _follow(ray, shards, spec)
        merged, parts = _collect(ray, shards, spec, progress, start_at)
    finally:
        for shard in shards:
            ray.kill(shard.actor)
        if group is not None:
            ray.util.remove_placement_group(group)
        ray.shutdown()
    for line in summary(merged):
        print(line, file=sys.stderr)
    if folder is not None:
        from harness.report.results import write_result

        for part in parts:  # each shard's own result, beside the merge (apart from the runs compare reads)
            write_result(part, folder, f"{name}-shards")
        print(f"result: {write_result(merged, folder, name)} (the shards': {Path(folder) / (name + '-shards')})", file=sys.stderr)
    return ABORTED if progress.stops > 1 else merged["status"]


def _reachable(address: str) -> None:
    """One line at once for a cluster that is not there (Ray itself retries for minutes)."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except ValueError:
        raise UserError(f"--cluster ray:{address}: not HOST:PORT") from None
    except OSError as error:
        raise UserError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from None


def _check_targets(spec: Any, count: int) -> None:
    """Every shard must deliver to one target: an embedded broker would be one per node."""
    for target in spec.sinks:
        if count > 1 and "embedded" in getattr(target.options, "brokers", ()):
            raise UserError(f"sink {target.name}: --broker embedded starts a broker on each node, so {count} shards would not "
                            f"share a target; name one every node reaches (--broker HOST:PORT)")


def _place(ray: Any, count: int, nodes: list[dict]) -> tuple[Any, list[Shard]]:
    """A STRICT_SPREAD placement group of `count` bundles (one node each) and
    one actor in each, with its node and clock offset."""
    from ray.util.placement_group import placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    from harness.cluster.shard import ShardProcess

    custom = all(node["Resources"].get(SHARD, 0) >= 1 for node in nodes)
    bundle = {SHARD: 1} if custom else {"CPU": 1}
    group = placement_group([bundle] * count, strategy="STRICT_SPREAD")
    try:
        ray.get(group.ready(), timeout=READY_SECONDS)
    except Exception:  # GetTimeoutError: the group cannot be placed
        ray.util.remove_placement_group(group)
        raise UserError(f"Ray could not place {count} shards on {count} different nodes (each needs {bundle}) "
                        f"within {READY_SECONDS:.0f} s") from None
    actor_class = ray.remote(ShardProcess)
    resources = {"num_cpus": 0, "resources": {SHARD: 1}} if custom else {"num_cpus": 1}
    shards = [Shard(k, actor_class.options(scheduling_strategy=PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=k),
                                           max_restarts=0, **resources).remote()) for k in range(count)]
    for shard in shards:
        sent = time.time()
        where = ray.get(shard.actor.where.remote(), timeout=READY_SECONDS)
        shard.node = f"{where['node'][:12]} ({where['ip']})"
        # The actor's first call includes its start, so this bounds the offset loosely;
        # a second call measures it over one round trip.
        sent = time.time()
        where = ray.get(shard.actor.where.remote(), timeout=READY_SECONDS)
        shard.offset = round(where["time"] - (sent + time.time()) / 2, 4)
    return group, shards


def _profile_file(args: Any) -> tuple[str, str] | None:
    """A profile given as a file travels with the shards (a name is found on each node)."""
    path = Path(getattr(args, "profile", None) or "")
    if not getattr(args, "profile", None) or not path.is_file():
        return None
    return path.name, path.read_text()


def _shard_argv(argv: list[str], index: int, count: int, start_at: float) -> list[str]:
    """The run's arguments, less those the coordinator sets, plus the shard's own."""
    out, skip = [], False
    takes_value = {"--cluster", "--shards", "--results", "--shard", "--start-at", "--feed"}
    for word in argv:
        if skip:
            skip = False
            continue
        flag = word.split("=", 1)[0]
        if flag in OWN_FLAGS:
            skip = flag in takes_value and "=" not in word
            continue
        out.append(word)
    return [*out, "--shard", f"{index}/{count}", "--start-at", f"{start_at:.3f}"]


def _follow(ray: Any, shards: list[Shard], spec: Any) -> Progress:
    """Poll the shards until every one has ended, showing their seconds; a
    stop (Ctrl-C) or a failed shard stops the rest, a second stop kills them."""
    from harness.report.readout import reporting

    def view(stream):
        from harness.report.dashboard import Dashboard, showing

        title = f"logstorm: {', '.join(t.name for t in spec.sinks)} on {len(shards)} nodes"
        return showing(Dashboard(title, spec.lines, spec.duration, sources="shard"), stream)

    progress = Progress()
    live = LiveSeconds([f"shard {s.index} @ {s.node}" for s in shards])
    running = {s.index for s in shards}
    with StopSignals(lambda count: setattr(progress, "stops", count)), reporting(view, spec.quiet) as show:
        stopped, halted = 0, False  # the stops acted on; whether the others were stopped after a shard failed
        while running:
            if progress.stops > stopped:
                stopped = progress.stops
                _stop(ray, [s for s in shards if s.index in running], kill=stopped > 1)
            failed = _poll(ray, [s for s in shards if s.index in running], running, live)
            for shard in failed:
                progress.errors.append(f"shard {shard.index} on node {shard.node}: {shard.error}")
                print(f"logstorm run: error: {progress.errors[-1]}; stopping the other shards", file=sys.stderr)
            if failed and not halted:
                _stop(ray, [s for s in shards if s.index in running], kill=False)
                halted = True
            for record in live.ready(running):
                show(record)
            if running:
                time.sleep(POLL_SECONDS)
        for record in live.ready(running, everything=True):
            show(record)
    return progress


def _poll(ray: Any, polled: list[Shard], running: set[int], live: LiveSeconds) -> list[Shard]:
    """One round: each running shard's new seconds to `live`; the shards that
    ended leave `running`; those that died or could not start are returned."""
    calls = {shard.index: shard.actor.poll.remote() for shard in polled}
    ready, _ = ray.wait(list(calls.values()), num_returns=len(calls), timeout=READY_SECONDS)
    failed = []
    for shard in polled:
        try:
            answer = ray.get(calls[shard.index], timeout=0) if calls[shard.index] in ready else None
        except Exception as error:  # RayActorError: the actor, its worker or its node died
            answer, shard.error = None, f"its actor died ({type(error).__name__})"
        if answer is None:
            shard.error = shard.error or f"no answer for {READY_SECONDS:.0f} s"
        else:
            for record in answer["records"]:
                live.add(shard.index, record)
            shard.returncode = answer["returncode"]
            if shard.returncode is not None and (shard.returncode < 0 or shard.returncode == 2):
                shard.error = f"its logstorm run ended by {_death(shard.returncode)}: {answer['said']}"
        if answer is None or shard.returncode is not None:
            running.discard(shard.index)
        if shard.error:
            failed.append(shard)
    return failed


def _stop(ray: Any, shards: list[Shard], kill: bool) -> None:
    for shard in shards:
        if kill:
            ray.kill(shard.actor)  # its subprocess dies with it
        else:
            shard.actor.stop.remote()


def _death(code: int) -> str:
    return f"signal {-code} ({signal.Signals(-code).name})" if code < 0 else f"exit status {code}"


def _collect(ray: Any, shards: list[Shard], spec: Any, progress: Progress, start_at: float) -> tuple[dict, list[dict]]:
    """The shards' results merged (and each shard's), marked with its node and offset; the
    shards' failures in its errors; a sink's check (--verify) on the merged
    fingerprints."""
    named, nodes = [], {}
    for shard in shards:
        nodes[shard.index] = shard.node
        try:
            done = ray.get(shard.actor.finish.remote(DRAIN_SECONDS), timeout=DRAIN_SECONDS + 10)
        except Exception as error:  # the actor is gone: no result from it
            done = {"result": None, "said": f"its actor is gone ({type(error).__name__})"}
        if done["result"] is not None:
            done["result"]["shard"]["clock_offset_s"] = shard.offset
            named.append((f"shard {shard.index}", done["result"]))
        elif not shard.error:
            shard.error = f"no result: {done['said']}"
            progress.errors.append(f"shard {shard.index} on node {shard.node}: {shard.error}")
    if not named:
        raise UserError("no shard returned a result: " + "; ".join(progress.errors or ["none ran"]))
    merged = merge(named, nodes)
    merged["errors"] = progress.errors + [e for e in merged["errors"] if e not in progress.errors]
    if progress.errors:
        merged["status"] = max(merged["status"], 1)
    if progress.stops:
        merged["interrupted"] = True
    if not progress.stops and not progress.errors:
        _verify(spec, merged, start_at)
    return merged, [result for _, result in named]


def _verify(spec: Any, merged: dict, start_at: float) -> None:
    """What each shard's sink left to the merge: its check of the target
    (Kafka's --verify), on the fingerprints of all the shards' lines."""
    import importlib

    for target, sink, prints in zip(spec.sinks, merged["sinks"], fingerprints(merged)):
        hook = getattr(importlib.import_module(target.module), "after_run", None)
        if hook is None or prints is None:
            continue
        verdict = hook(target.options, sink["delivered"], [prints], start_at)
        if verdict is not None:
            ok, message = verdict
            print(f"  {target.name}: {message}", file=sys.stderr)
            if not ok:
                merged["errors"].append(f"{target.name}: {message}")
                merged["status"] = max(merged["status"], 1)
