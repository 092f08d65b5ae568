"""RabbitMQ from Debian's package, on free 127.0.0.1 ports (AMQP, Erlang
distribution and its own epmd), its node data and logs in a temporary
folder. Starts in about 7 s.

    with RabbitMQ() as server:
        run_against(server.url)          # amqp://guest:guest@127.0.0.1:PORT/

/usr/sbin/rabbitmq-server switches to the rabbitmq user; the script it calls,
/usr/lib/rabbitmq/bin/rabbitmq-server, runs as whoever starts it, with every
path and port from the environment. The Erlang port mapper (epmd) it starts
outlives it, detached: it is stopped by the PID listening on our epmd port.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from harness.errors import UserError
from harness.servers.local import free_port, launch, listening_pid, stop, stop_pid, wait_listening

SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server"
READY_TIMEOUT = 60.0  # about 7 s idle; much more on a busy 2-core machine
EPMD_FIND_SECONDS = 2.0


class RabbitMQ:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.epmd_port = 0
        self.log_path: Path | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "rabbitmq not started"
        return self.process.pid

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"  # guest may log in from loopback only

    def start(self) -> RabbitMQ:
        if not Path(SCRIPT).exists():
            raise UserError("rabbitmq-server is not installed (apt-get install -y rabbitmq-server)")
        self._dir = tempfile.TemporaryDirectory(prefix="logstorm-rabbitmq-")
        folder = Path(self._dir.name)
        self.port, self.epmd_port = free_port(), free_port()
        self.log_path = folder / "server.log"
        try:
            self.process = launch([SCRIPT], self.log_path, env=self._environment(folder), cwd=folder)
            wait_listening(self.process, self.port, READY_TIMEOUT, "rabbitmq-server", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _environment(self, folder: Path) -> dict[str, str]:
        (folder / "enabled_plugins").write_text("[].\n")
        (folder / "rabbitmq.conf").write_text("")
        node = f"logstorm-{self.port}@localhost"
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "RABBITMQ_NODENAME": node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_PID_FILE": str(folder / "rabbitmq.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
        }

    def stop(self) -> None:
        """The server by our child's PID, then the epmd it started, by the PID
        listening on its port (found before the server stops: it may be slow to appear)."""
        epmd = self._epmd_pid()
        stop(self.process)
        stop_pid(epmd)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _epmd_pid(self) -> int | None:
        if not self.epmd_port:
            return None
        deadline = time.monotonic() + (EPMD_FIND_SECONDS if self.process is not None else 0)
        while (pid := listening_pid(self.epmd_port)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return pid

    def __enter__(self) -> RabbitMQ:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
