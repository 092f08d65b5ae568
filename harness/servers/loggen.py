"""loggen, syslog-ng's load generator, for side-by-side benchmarks.

It ships in Debian's syslog-ng-core, which conflicts with rsyslog (installing
one removes the other). So the package is downloaded and unpacked, not
installed: `apt-get download syslog-ng-core`, `dpkg-deb -x` into a folder,
and loggen runs from there with SYSLOGNG_PREFIX and LD_LIBRARY_PATH pointing
into it. Always pass -r: its default rate is a few thousand a second.

    argv, env = loggen(unpack(folder), "-P", "-r", "1000000", "-n", "100000", "127.0.0.1", "5514")
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.errors import UserError

PACKAGE = "syslog-ng-core"
TIMEOUT = 300


def unpack(folder: Path) -> Path:
    """The root of an unpacked syslog-ng-core in `folder` (done once: a folder that has it is reused)."""
    root = folder / "root"
    if (root / "usr" / "bin" / "loggen").exists():
        return root
    folder.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "download", PACKAGE], folder)
    packages = sorted(folder.glob(f"{PACKAGE}_*.deb"))
    if not packages:
        raise UserError(f"apt-get download {PACKAGE} left no package in {folder}")
    _run(["dpkg-deb", "-x", str(packages[-1]), str(root)], folder)
    return root


def _run(argv: list[str], folder: Path) -> None:
    try:
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise UserError(f"{argv[0]} is not installed: loggen is unpacked from Debian's {PACKAGE}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1]
        raise UserError(f"{' '.join(argv)} failed: {reason}")


def loggen(root: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run the unpacked loggen."""
    env = {**os.environ, "SYSLOGNG_PREFIX": str(root / "usr"), "LD_LIBRARY_PATH": str(root / "usr" / "lib" / "syslog-ng")}
    return [str(root / "usr" / "bin" / "loggen"), *args], env
