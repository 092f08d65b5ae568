"""RabbitMQ from Debian's package, on free 127.0.0.1 ports (AMQP, Erlang
distribution and its own epmd), its node data and logs in a temporary
folder. Starts in about 7 s.

    with RabbitMQ() as server:
        run_against(server.url)          # amqp://guest:guest@127.0.0.1:PORT/
    with RabbitMQ(user="ann", password=secret) as server:   # its only user

/usr/sbin/rabbitmq-server switches to the rabbitmq user; the script it calls,
/usr/lib/rabbitmq/bin/rabbitmq-server, runs as whoever starts it, with every
path and port from the environment. With RABBITMQ_ALLOW_INPUT it execs the
Erlang VM (otherwise it starts the VM as its child and waits, and killing
the script leaves the VM running): our child is then the server itself,
dying with whoever started it. The VM reads its stdin and stops at its end,
so stdin is a pipe we hold open: a second way it ends with us.
The Erlang port mapper (epmd) it would start runs detached and outlives it;
so epmd is started first, as our own child on our own port (the VM then
uses it): stopped by its PID too, and never left behind.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from harness.errors import UserError
from harness.servers.local import free_port, launch, stop, wait_listening

SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server"
READY_TIMEOUT = 60.0  # about 7 s idle; much more on a busy 2-core machine
EPMD_READY_TIMEOUT = 10.0


def epmd() -> str:
    found = shutil.which("epmd") or next(iter(sorted(glob.glob("/usr/lib/erlang/erts-*/bin/epmd"))), None)
    if found is None:
        raise UserError("epmd is not installed (apt-get install -y erlang-base): rabbitmq-server needs it")
    return found


class RabbitMQ:
    def __init__(self, user: str = "guest", password: str = "guest") -> None:
        self.user, self.password = user, password
        self.process: subprocess.Popen | None = None
        self.epmd: subprocess.Popen | None = None
        self.port = 0
        self.epmd_port = 0
        self.log_path: Path | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "rabbitmq not started"
        return self.process.pid

    def __repr__(self) -> str:  # the password stays out of any report
        return f"RabbitMQ(127.0.0.1:{self.port or 'not started'}, user={self.user})"

    @property
    def url(self) -> str:
        """With the password in it: for clients, never for printing."""
        return f"amqp://{quote(self.user)}:{quote(self.password)}@127.0.0.1:{self.port}/"

    def start(self) -> RabbitMQ:
        if not Path(SCRIPT).exists():
            raise UserError("rabbitmq-server is not installed (apt-get install -y rabbitmq-server)")
        self._dir = tempfile.TemporaryDirectory(prefix="logstorm-rabbitmq-")
        folder = Path(self._dir.name)
        self.port, self.epmd_port = free_port(), free_port()
        self.log_path = folder / "server.log"
        try:
            self.epmd = launch([epmd(), "-port", str(self.epmd_port), "-address", "127.0.0.1"], folder / "epmd.log",
                               cwd=folder)
            wait_listening(self.epmd, self.epmd_port, EPMD_READY_TIMEOUT, "epmd", folder / "epmd.log")
            self.process = launch([SCRIPT], self.log_path, env=self._environment(folder), cwd=folder,
                                  stdin=subprocess.PIPE)
            wait_listening(self.process, self.port, READY_TIMEOUT, "rabbitmq-server", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _environment(self, folder: Path) -> dict[str, str]:
        (folder / "enabled_plugins").write_text("[].\n")
        config = folder / "rabbitmq.conf"
        config.write_text(f"default_user = {self.user}\ndefault_pass = {self.password}\n")
        config.chmod(0o600)
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
            "RABBITMQ_CONFIG_FILE": str(config),
            # The script then execs the Erlang VM instead of starting it as a child: our
            # child is the server itself, and dies with whoever started it (PR_SET_PDEATHSIG).
            "RABBITMQ_ALLOW_INPUT": "true",
        }

    def stop(self) -> None:
        """The server by its PID (SIGTERM: it stops in about a second), then epmd."""
        stop(self.process)
        if self.process is not None:
            self.process.stdin.close()
        stop(self.epmd)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RabbitMQ:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
