"""Which commit of logstorm is running, when it runs from a git checkout:
a result file records it, and `--version` prints it."""

from __future__ import annotations

import subprocess
from pathlib import Path


def checkout_commit() -> dict:
    """{"commit", "dirty"} when logstorm runs from a git checkout (results/ is data: not dirty), else {}.

    Only a checkout whose top holds this package is asked (an installed copy
    may sit inside some unrelated repository), in one call to git: a plain
    install starts none, and every run asks at its end."""
    top = Path(__file__).resolve().parents[2]
    if not (top / ".git").exists():
        return {}
    try:
        done = subprocess.run(["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no", "--",
                               ":(top,exclude)results"], cwd=top, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return {}
    lines = done.stdout.splitlines() if done.returncode == 0 else []
    head = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
    if head in (None, "(initial)"):  # git failed, or the repository has no commit yet
        return {}
    return {"commit": head, "dirty": any(not line.startswith("#") for line in lines)}
