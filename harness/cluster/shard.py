"""One shard inside a Ray actor: the actor holds a `logstorm run --shard K/N`
subprocess, so the run's own processes and shared memory stay outside
Ray's worker. The coordinator calls these methods remotely; nothing here
imports Ray at module level, and the class is plain Python (tested as is).

The subprocess dies with the actor (PR_SET_PDEATHSIG: SIGKILL; the run's
children die with it the same way), so `ray.kill` or a lost node leaves no
shard running."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

import harness

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class ShardProcess:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="logstorm-shard-"))
        self.process: subprocess.Popen | None = None
        self.read = 0  # bytes of the feed already handed back

    def where(self) -> dict:
        """Which node this is, and its clock (for the offset to the coordinator's)."""
        import ray

        return {"node": ray.get_runtime_context().get_node_id(), "ip": ray.util.get_node_ip_address(),
                "hostname": socket.gethostname(), "time": time.time()}

    def start(self, argv: list[str], profile: tuple[str, str] | None) -> None:
        """`logstorm run ARGV` with this shard's result folder and feed;
        `profile`: (file name, text) of a profile file the coordinator read,
        written here and run in its place (argv[0])."""
        if profile is not None:
            (self.folder / profile[0]).write_text(profile[1])
            argv = [str(self.folder / profile[0]), *argv[1:]]
        command = [sys.executable, "-m", "harness", "run", *argv, "--quiet",
                   "--results", str(self.folder / "results"), "--feed", str(self.folder / "feed.jsonl")]
        env = {**os.environ, "PYTHONPATH": str(Path(harness.__file__).resolve().parent.parent)}
        with open(self.folder / "stderr", "wb") as stderr:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                            env=env, cwd=self.folder, start_new_session=True, preexec_fn=_die_with_parent)

    def poll(self) -> dict:
        """The per-second records written since the last poll, and the exit
        status once the shard has ended (None while it runs)."""
        records = []
        feed = self.folder / "feed.jsonl"
        if feed.exists():
            with open(feed, "rb") as f:
                f.seek(self.read)
                data = f.read()
            whole = data[:data.rfind(b"\n") + 1]
            self.read += len(whole)
            records = [orjson.loads(line) for line in whole.splitlines()]
        returncode = self.process.poll() if self.process else None
        return {"records": records, "returncode": returncode, "pid": self.process.pid if self.process else None,
                "said": self._last_error() if returncode else ""}

    def _last_error(self) -> str:
        """The shard's last line on stderr (its error, when it failed)."""
        lines = (self.folder / "stderr").read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "nothing on stderr"

    def stop(self) -> None:
        """As Ctrl-C: the shard stops generating, drains and writes its result."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float) -> dict:
        """Wait for the shard to end (SIGKILL after `timeout` s); its result
        (None if it wrote none), exit status and the tail of its stderr."""
        if self.process is None:
            return {"result": None, "returncode": None, "said": "never started"}
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        files = sorted((self.folder / "results").rglob("*.json"))
        result: Any = orjson.loads(files[-1].read_bytes()) if files else None
        said = self._last_error()
        shutil.rmtree(self.folder, ignore_errors=True)
        return {"result": result, "returncode": self.process.returncode, "said": said}
