"""The layout's rules, read from the source: every import points down the
stack, generators/ are pure, only harness/run/ starts processes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "generators", "sinks")
# What a sink may import of harness/: the ground, and the local servers a sink
# starts for a run (the embedded broker).
SINK_MAY_IMPORT = ("harness.errors", "harness.options", "harness.extras", "harness.aws", "harness.servers")
# Calls that start a process of the run (servers/ start external servers with
# subprocess, which is their job; report/checkout asks git for the commit).
STARTS_PROCESSES = ("Process", "fork", "Pool", "ProcessPoolExecutor", "forkserver")
# Who may start other programs with subprocess, and why: servers/ run external
# servers; cluster/ runs each shard as a `logstorm run --shard` subprocess
# inside a Ray actor (so the run's processes stay outside Ray's workers);
# report/checkout asks git for the commit.
SUBPROCESS_ALLOWED = ("harness.servers", "harness.cluster", "harness.report.checkout")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Our modules that `path` imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] in PACKAGES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def test_no_module_imports_itself_back_through_others() -> None:
    cycles = []

    def visit(name: str, path: tuple[str, ...], done: set[str]) -> None:
        if name in path:
            cycles.append(" -> ".join(path[path.index(name):] + (name,)))
            return
        if name in done:
            return
        done.add(name)
        for other in GRAPH.get(name, ()):
            if other != name.rpartition(".")[0]:  # a module may read its own package's docstring-only __init__
                visit(other, path + (name,), done)

    done: set[str] = set()
    for name in GRAPH:
        visit(name, (), done)
    assert cycles == []


def test_generators_import_nothing_of_harness_or_sinks() -> None:
    reaching_out = {name: sorted(d for d in deps if not d.startswith("generators"))
                    for name, deps in GRAPH.items() if name.startswith("generators")}
    assert {name: deps for name, deps in reaching_out.items() if deps} == {}


def test_sinks_import_only_the_ground_of_harness() -> None:
    too_high = {name: sorted(d for d in deps if d.startswith("harness") and not d.startswith(SINK_MAY_IMPORT))
                for name, deps in GRAPH.items() if name.startswith("sinks")}
    assert {name: deps for name, deps in too_high.items() if deps} == {}


@pytest.mark.parametrize("room", ["load", "readback", "report", "servers", "sources", "transport"])
def test_lower_rooms_never_import_the_rooms_above(room: str) -> None:
    above = ("harness.cli", "harness.profiles", "harness.run")
    upward = {name: sorted(d for d in deps if d.startswith(above))
              for name, deps in GRAPH.items() if name.startswith(f"harness.{room}")}
    assert {name: deps for name, deps in upward.items() if deps} == {}


def test_only_harness_run_starts_processes() -> None:
    starters = []
    for name, path in MODULES.items():
        if name.startswith("harness.run"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            word = getattr(called, "attr", None) or getattr(called, "id", None)
            if word in STARTS_PROCESSES:
                starters.append(f"{name}: {word}(...) at line {node.lineno}")
    assert starters == []


def test_only_servers_cluster_and_results_start_other_programs() -> None:
    starters = []
    for name, path in MODULES.items():
        if name.startswith(SUBPROCESS_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(getattr(called, "value", None), ast.Name) and called.value.id == "subprocess":
                starters.append(f"{name}: subprocess.{called.attr}(...) at line {node.lineno}")
    assert starters == []


def test_the_cluster_starts_shards_as_commands_not_the_runs_processes() -> None:
    """harness/cluster/ places `logstorm run --shard` commands; it never imports
    the commands (cli/) nor the run's machinery (run/)."""
    reaching = {name: sorted(d for d in deps if d.startswith(("harness.cli", "harness.run")))
                for name, deps in GRAPH.items() if name.startswith("harness.cluster")}
    assert {name: deps for name, deps in reaching.items() if deps} == {}


def test_no_module_outside_tests_is_over_400_lines() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 400}
    assert long == {}
