"""docs/ci.md's job, run as written: its `run:` steps extracted from the
YAML and run one by one with bash -eo pipefail (as Actions does), in a
fresh virtual environment, from a clean clone of this repository. The
steps that need GitHub itself (checkout: the clone stands in; setup-python;
the pull-request comment; the artifact upload) are left aside.

The baseline is recorded in the clone just before, as `logstorm baseline
save ci` on main would have: the job then passes on no change, and fails
(exit 1, throughput worse) on a commit that slows the Kafka sink by a
known amount (tests/fixtures/slow_kafka.py).

The virtual environment sees the system's site-packages and pip installs
with no index: the test runs offline, and `pip install .` still builds and
installs logstorm itself, profiles included, from the clone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.slow_kafka import US_PER_LINE, slow_down

ROOT = Path(__file__).resolve().parent.parent


def job_steps() -> list[dict]:
    """The first job's steps that run a command outside GitHub's own actions."""
    text = (ROOT / "docs" / "ci.md").read_text()
    workflow = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    job = next(iter(workflow["jobs"].values()))
    return [step for step in job["steps"] if "run" in step and "pull_request" not in step.get("if", "")]


def run_job(clone: Path, env: dict) -> list[subprocess.CompletedProcess]:
    """Every step in order, stopping at the first that fails, as Actions does."""
    done = []
    for step in job_steps():
        finished = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=clone, env=env, capture_output=True, timeout=600)
        done.append(finished)
        if finished.returncode != 0:
            break
    return done


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, dict]:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    # ensurepip's setuptools is too old for pyproject.toml's license: build with the system's, offline.
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=True, timeout=120)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", VIRTUAL_ENV=str(venv),
               PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1",
               GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    return clone, env


def record_baseline(clone: Path, env: dict) -> None:
    install = next(step["run"] for step in job_steps() if step["run"].startswith("pip install"))
    for command in (install, "logstorm baseline save ci --quiet"):
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=clone, env=env, capture_output=True, timeout=600)
        assert done.returncode == 0, done.stderr.decode()


def describe(done: list[subprocess.CompletedProcess]) -> str:
    return "\n".join(f"$ {d.args[-1]}\nexit {d.returncode}\n{d.stdout.decode()}{d.stderr.decode()}" for d in done)


@pytest.mark.slow
def test_the_recipe_passes_on_no_change_and_fails_on_a_slowed_sink(checkout):
    clone, env = checkout
    record_baseline(clone, env)
    summary = Path(env["GITHUB_STEP_SUMMARY"])

    done = run_job(clone, env)
    assert len(done) == len(job_steps()) and all(d.returncode == 0 for d in done), describe(done)
    table = summary.read_text()
    assert "capacity: unpaced" in table and "No gated metric got worse." in table, table
    assert "[!WARNING]" not in table, table

    slow_down(clone)
    subprocess.run(["rm", "-rf", str(clone / "results" / "ci")], check=True)
    summary.unlink()
    done = run_job(clone, env)
    assert done[-1].returncode == 1, describe(done)
    assert "compare" in done[-1].args[-1], describe(done)  # the job failed at the gate, nothing before it
    table = summary.read_text()
    assert re.search(r"\| throughput \|[^\n]*\| \*\*worse\*\* \(p=", table), table
    assert "got worse: throughput" in table, (US_PER_LINE, table)
