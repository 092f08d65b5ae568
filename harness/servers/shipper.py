"""A log shipper (rsyslog, syslog-ng) run as our own process for a test or a
benchmark: a generated config in a temporary folder, inputs on free
127.0.0.1 ports, its own session, stopped by its PID. The folder and the
ports outlive a kill, so start() after kill() brings the same server back
(a crash and a restart, as a pipeline would see them).

A subclass gives the config and the command line:

    class Rsyslog(Shipper):
        name = "rsyslogd"
        def config(self) -> str: ...
        def argv(self) -> list[str]: ...
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.errors import UserError
from harness.servers.kafka import _die_with_parent, free_port

READY_TIMEOUT = 10.0
READY_SLICE = 0.02
STOP_TIMEOUT = 5.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Shipper:
    name = ""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self._dir: tempfile.TemporaryDirectory | None = None
        self.tcp_port = free_port()

    def config(self) -> str:
        raise NotImplementedError

    def argv(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def listening(self) -> tuple[int, ...]:
        """The TCP ports that accept connections once it is ready."""
        return (self.tcp_port,)

    @property
    def folder(self) -> Path:
        assert self._dir is not None, "start() first"
        return Path(self._dir.name)

    @property
    def output(self) -> Path:
        """The file its file action writes, one message a line."""
        return self.folder / "out.log"

    def start(self) -> "Shipper":
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix=f"logstorm-{self.name}-")
        (self.folder / "shipper.conf").write_text(self.config())
        with open(self.folder / "shipper.log", "ab") as log:
            self.process = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env(), cwd=self.folder, start_new_session=True,
                                            preexec_fn=_die_with_parent)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        for port in self.listening():
            while True:
                if self.process.poll() is not None:
                    raise UserError(f"{self.name} exited with status {self.process.returncode}: {self.log_tail()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise UserError(f"{self.name} did not listen on 127.0.0.1:{port} within {READY_TIMEOUT:.0f} s")
                    time.sleep(READY_SLICE)

    def log_tail(self) -> str:
        path = self.folder / "shipper.log"
        lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        errors = [line for line in lines if "error" in line.lower()]  # syslog-ng ends with its contact address
        return " | ".join((errors or lines)[-3:]) or "no output"

    def kill(self) -> None:
        """SIGKILL, as a crash would: what it held in memory is lost."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM (it writes out its queue), SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> "Shipper":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
