"""The package as a user installs it: a wheel built from this checkout, put
into a fresh virtual environment (the base install: no AWS extra), used from
a folder outside the checkout. Profiles, the schema and the embedded broker
must all come from the install."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.profiles.profile import names

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtual environment holding the wheel."""
    where = tmp_path_factory.mktemp("wheel")
    # setuptools writes build/ and the egg-info into the tree it builds, so
    # two test workers building one checkout at once break each other's
    # build: each builds its own copy of the tree.
    source = where / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".*cache"))
    # No isolation: the build uses the setuptools already installed, so the
    # test needs no index for the build itself (the install still does).
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(where / "dist"), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel, = (where / "dist").glob("logstorm-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True, timeout=120)
    bin_ = where / "venv" / "bin"
    subprocess.run([str(bin_ / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    return bin_


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def run(bin_: Path, folder: Path, *argv: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    command = [str(bin_ / "python"), *python_flags, str(bin_ / argv[0]), *argv[1:]]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_version_from_the_wheel_names_no_commit(installed: Path, outside: Path) -> None:
    done = run(installed, outside, "logstorm", "--version")
    assert done.returncode == 0 and done.stdout.strip() == "logstorm 0.1.0"


def test_every_shipped_profile_is_listed_and_readable(installed: Path, outside: Path) -> None:
    listed = run(installed, outside, "logstorm", "profiles")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == names()
    smoke = run(installed, outside, "logstorm", "profiles", "smoke")
    assert smoke.returncode == 0 and json.loads(smoke.stdout)["name"] == "smoke"


def test_generate_and_a_null_run_work_outside_the_checkout(installed: Path, outside: Path) -> None:
    generated = run(installed, outside, "generate", "-i", "10")
    assert generated.returncode == 0 and len(generated.stdout.splitlines()) == 10
    ran = run(installed, outside, "logstorm", "run", "--lines", "1000", "--sink", "null")
    assert ran.returncode == 0, ran.stderr
    assert "1,000 delivered" in ran.stdout + ran.stderr


def test_the_smoke_profile_runs_on_the_broker_the_wheel_brings(installed: Path, outside: Path) -> None:
    done = run(installed, outside, "logstorm", "run", "smoke")
    assert done.returncode == 0, done.stderr
    assert "exactly once" in done.stdout + done.stderr
    result, = (outside / "results" / "smoke").glob("*.json")
    assert json.loads(result.read_text())["profile"]["name"] == "smoke"


def test_a_sink_whose_extra_is_missing_names_the_extra(installed: Path, outside: Path) -> None:
    (outside / "lines").write_text("a line\n")
    done = run(installed, outside, "stream", "s3", "--bucket", "b", "lines")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["stream: error: the s3 sink needs boto3, which is not installed: "
                                                "pip install 'logstorm[aws]'"]


@pytest.mark.parametrize("argv", [("generate", "-i", "1"), ("stream", "stdout")])
def test_generating_and_printing_import_no_client(installed: Path, outside: Path, argv: tuple[str, ...]) -> None:
    (outside / "in").write_text("a line\n")
    done = run(installed, outside, *argv, *(("in",) if argv[0] == "stream" else ()), python_flags=("-X", "importtime"))
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"boto3", "botocore", "confluent_kafka"}
