"""Every command's --help ends with real examples, and says what a new user
would otherwise miss: the profile form of run and plan, where a sink's
flags are, and where -P and -s mean different things."""

from __future__ import annotations

import importlib.util
import re

import pytest

from harness.cli.main import COMMANDS, _module_name
from tests.fixtures.common import run_cli

KNOWN = [c for c in COMMANDS if importlib.util.find_spec(_module_name(c))]


def help_text(*command: str) -> str:
    done = run_cli(*command, "--help")
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@pytest.mark.parametrize("command", KNOWN)
def test_help_ends_with_two_or_three_examples(command):
    text = help_text(command)
    tail = text.rstrip("\n").split("\nexamples:\n")
    assert len(tail) == 2, f"`logstorm {command} --help` has no 'examples:' section"
    examples = [line for line in tail[1].splitlines() if line.strip()]
    assert 2 <= len(examples) <= 3 and all(line.startswith("  ") for line in examples), examples
    command_line = re.compile(r"  (\w+=\S+ )*(logstorm|generate|stream) ")  # ENV=value ... first is fine
    assert all(command_line.match(line) for line in examples), examples


@pytest.mark.parametrize("command", ["run", "plan"])
def test_run_and_plan_show_the_profile_form(command):
    text = help_text(command)
    assert "NAME|PATH" in text and "--set KEY.PATH=VALUE" in text and "--broker HOST:PORT" in text


@pytest.mark.parametrize("command, says", [
    ("stream", ["`stream SINK --help`", "-P is producer processes and -s the schedule here", "in `generate`, -P is generator"]),
    ("generate", ["-P is generator processes and -s the seed here", "in `stream`, -P is producers and -s the schedule"]),
    ("run", ["-P producers per sink (in `generate`"]),
])
def test_help_says_where_short_flags_differ(command, says):
    text = " ".join(help_text(command).split())
    for phrase in says:
        assert " ".join(phrase.split()) in text, phrase


@pytest.mark.parametrize("columns", ["60", "120"])
def test_help_wraps_its_usage_at_the_width_columns_gives(columns):
    done = run_cli("generate", "--help", env={"COLUMNS": columns})
    usage = done.stdout.decode().split("\n\n")[0].splitlines()  # the examples below keep their lines
    assert len(usage) > 1 and max(map(len, usage)) <= int(columns)
    assert max(map(len, usage)) > int(columns) - 20  # and it uses the width
