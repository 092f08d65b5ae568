"""A full disk, for real: a 4 MiB tmpfs that fills up after some 17,000
apache lines. Whatever fills it, no file ends in a torn line, and what a
command says it delivered or wrote is exactly what the files hold."""

from __future__ import annotations

import bz2
import functools
import gzip
import json
import lzma
import os
import re
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest
import zstandard

from tests.fixtures.common import run_cli
from tests.strict import PARSERS
from tests.test_run import delivered, generated

TIMEOUT = 120
SEED = "5"
DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    ".log": bytes,
    ".gz": gzip.decompress,
    ".bz2": bz2.decompress,
    ".xz": lzma.decompress,
    ".zst": lambda data: zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True).read(),
}


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted afterwards whatever happened."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


@functools.cache
def reference(lines: int) -> list[bytes]:
    """The lines `generate -i LINES` writes with SEED, to stdout where
    nothing fills up (a short last batch is not the start of a full one, so
    LINES must be the count the command under test makes)."""
    result = run_cli("generate", "-i", str(lines), "-s", SEED, "-q", timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines(keepends=True)


def lines_on_disk(folder: Path) -> list[bytes]:
    """Every file's lines, decompressed; each file must end in a newline."""
    lines = []
    for path in sorted(folder.iterdir()):
        data = DECOMPRESS[path.suffix](path.read_bytes())
        assert data.endswith(b"\n"), f"{path.name} ends in a torn line: {data[-80:]!r}"
        lines += data.splitlines(keepends=True)
    return lines


def assert_whole_lines_of(lines: list[bytes], reference: list[bytes]) -> None:
    known = set(reference)
    for line in lines:
        assert line in known, line
        PARSERS["apache"](line)


def the_result(folder: Path) -> dict:
    [path] = folder.glob("*/*.json")
    return json.loads(path.read_bytes())


@pytest.mark.parametrize("compression", [[], ["-z", "gzip", "-c", "50000"], ["-z", "zstd"]])
def test_run_to_a_full_disk_delivers_exactly_the_whole_lines_on_it(disk, tmp_path, compression):
    results = tmp_path / "results"
    result = run_cli("run", "--format", "apache", "--lines", "200000", "--seed", SEED, "--sink", "file",
                     "--path", str(disk), *compression, "--results", str(results), "-q", timeout=TIMEOUT)
    assert result.returncode == 1, result.stderr
    on_disk = lines_on_disk(disk)
    assert_whole_lines_of(on_disk, reference(200_000))
    report = the_result(results)
    [sink] = report["sinks"]
    assert 0 < sink["delivered"] == len(on_disk)
    assert report["totals"]["generated"] == 200_000 == sink["delivered"] + sink["failed"] + sink.get("unsent", 0)
    assert any("ENOSPC" in reason for reason in report["totals"]["failed_by_reason"]), report["totals"]


def test_stream_to_a_full_disk_delivers_exactly_the_whole_lines_on_it(disk, tmp_path):
    source = tmp_path / "in.log"
    source.write_bytes(b"".join(reference(200_000)))
    result = run_cli("stream", "file", "--path", str(disk), str(source), "-q", timeout=TIMEOUT)
    assert result.returncode == 1, result.stderr
    on_disk = lines_on_disk(disk)
    assert_whole_lines_of(on_disk, reference(200_000))
    ok, failed = delivered(result.stderr, "filesystem")
    assert 0 < ok == len(on_disk) and ok + failed == generated(result.stderr) == 200_000
    assert b"ENOSPC" in result.stderr, result.stderr


@pytest.mark.parametrize("processes", ["1", "2"])
def test_generate_to_a_full_disk_fails_in_one_line_and_keeps_whole_lines(disk, processes):
    out = disk / "out.log"
    result = run_cli("generate", "-i", "300000", "-s", SEED, "-P", processes, "-o", str(out), timeout=TIMEOUT)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    match = re.fullmatch(rf"generate: error: cannot write {re.escape(str(out))}: No space left on device"
                         r" \(wrote ([\d,]+) whole lines\)\n", stderr)
    assert match, stderr
    data = out.read_bytes()
    assert data.endswith(b"\n")
    lines = data.splitlines(keepends=True)
    assert 0 < len(lines) == int(match[1].replace(",", ""))
    assert lines == reference(300_000)[:len(lines)]
