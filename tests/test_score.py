"""`logstorm score`: a parser's accepted and rejected lines judged against
the truth of `generate --truth`, per bad-data kind."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from generators.baddata import STRUCTURAL
from harness.report.truth import line_hash, read_truth
from tests.fixtures.common import ROOT, run_cli

LINES = 10_000


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """10,000 apache lines at -b 40, and what a "parser" made of them that
    rejects exactly the structural kinds."""
    folder = tmp_path_factory.mktemp("score")
    log, truth = folder / "in.log", folder / "in.truth"
    result = run_cli("generate", "-l", "apache", "-i", str(LINES), "-b", "40", "-s", "4", "-o", str(log), "--truth", str(truth))
    assert result.returncode == 0, result.stderr
    parse(log, read_truth(str(truth)).kind_of, folder)
    return folder


def parse(log, kind_of: dict, folder) -> None:
    """A "parser" that rejects exactly the lines of structural kinds into
    dead.log and keeps the others in ok.log (it is told them by a truth:
    the test is of the scoring, not of a parser)."""
    accepted, rejected = [], []
    for line in log.read_bytes().split(b"\n")[:-1]:
        (rejected if kind_of.get(line_hash(line)) in STRUCTURAL else accepted).append(line + b"\n")
    (folder / "ok.log").write_bytes(b"".join(accepted))
    (folder / "dead.log").write_bytes(b"".join(rejected))


def both_sides(folder) -> tuple[str, ...]:
    return "--accepted", str(folder / "ok.log"), "--rejected", str(folder / "dead.log")


def score(folder, *args: str, truth: str = "in.truth") -> dict:
    result = run_cli("score", "--truth", str(folder / truth), *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_structural_kinds_all_caught_the_others_none_and_no_good_line_rejected(parsed):
    report = score(parsed, *both_sides(parsed))
    assert set(STRUCTURAL) <= set(report["kinds"]) and len(report["kinds"]) == 10
    for kind, row in report["kinds"].items():
        assert row["bad"] > 300
        assert row["recall"] == (1.0 if kind in STRUCTURAL else 0.0), kind
    assert report["good_rejected"] == 0 and report["precision"] == 1.0


@pytest.mark.parametrize("side", ["--accepted", "--rejected"])
def test_either_side_alone_gives_the_same_catch(parsed, side):
    file = parsed / ("ok.log" if side == "--accepted" else "dead.log")
    report = score(parsed, side, str(file))
    assert all(row["recall"] == (1.0 if kind in STRUCTURAL else 0.0) for kind, row in report["kinds"].items())


def test_the_table_shows_each_kind_and_the_good_lines_rejected(parsed):
    result = run_cli("score", "--truth", str(parsed / "in.truth"), "--rejected", str(parsed / "dead.log"))
    text = result.stdout.decode()
    assert result.returncode == 0
    assert "truncated" in text and "100.0 %" in text and "good lines wrongly rejected: 0" in text


def test_a_good_line_rejected_lowers_the_precision(parsed, tmp_path):
    good = next(line for line in (parsed / "ok.log").read_bytes().split(b"\n")
                if line and line_hash(line) not in read_truth(str(parsed / "in.truth")).kind_of)
    dead = tmp_path / "dead.log"
    dead.write_bytes((parsed / "dead.log").read_bytes() + good + b"\n")
    report = score(parsed, "--rejected", str(dead))
    assert report["good_rejected"] == 1 and report["precision"] < 1.0


def test_a_run_into_files_scores_as_the_same_lines_generated(parsed, tmp_path):
    # Two generators: the run's truth has each batch's rows together, the
    # batches in the order they were made; its line numbers are run-wide.
    result = run_cli("run", "--sink", "file", "--path", str(tmp_path / "out"), "-l", "apache", "-n", str(LINES),
                     "-b", "40", "--seed", "4", "-g", "2", "-q", "--truth", str(tmp_path / "run.truth"))
    assert result.returncode == 0, result.stderr
    (log,) = (tmp_path / "out").iterdir()
    parse(log, read_truth(str(parsed / "in.truth")).kind_of, tmp_path)
    rows = sorted(row for row in (tmp_path / "run.truth").read_bytes().splitlines() if not row.startswith(b"#"))
    assert rows == sorted(row for row in (parsed / "in.truth").read_bytes().splitlines() if not row.startswith(b"#"))
    assert score(tmp_path, *both_sides(tmp_path), truth="run.truth") == score(parsed, *both_sides(parsed))


@pytest.mark.parametrize("args, culprit", [
    ((), "--accepted"),
    (("--accepted", "nope.log"), "nope.log"),
])
def test_bad_input_is_one_line_and_exit_2(parsed, args, culprit):
    result = run_cli("score", "--truth", str(parsed / "in.truth"), *args)
    assert result.returncode == 2 and culprit in result.stderr.decode() and result.stderr.count(b"\n") == 1


def test_scoring_loads_no_heavy_module():
    code = ("import sys, harness.cli.score, harness.report.scoring, harness.report.truth; "
            "print(sorted({'numpy', 'rich', 'confluent_kafka', 'boto3'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT)
    assert result.stdout.strip() == b"[]", result.stderr
