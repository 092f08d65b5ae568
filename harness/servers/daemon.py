"""A server from the system's packages (redis-server, nats-server, ...) run
for a test or a benchmark: on a free 127.0.0.1 port, with its files in a
temporary folder, in its own session, stopped by its own PID.

A subclass names the binary and gives its command line:

    class RedisServer(Daemon):
        binary = "redis-server"
        def command(self, port, folder): return [self.binary, "--port", str(port), ...]

    with RedisServer() as server:
        use(server.port)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.errors import UserError
from harness.servers.kafka import _die_with_parent, free_port

READY_TIMEOUT = 10.0  # these servers answer within about 0.1 s; 10 s covers a loaded machine
STOP_TIMEOUT = 5.0


class Daemon:
    binary = ""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port = 0
        self._dir: tempfile.TemporaryDirectory | None = None
        self.folder = Path()
        self.log_path = Path()

    def command(self, port: int, folder: Path) -> list[str]:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.binary} not started"
        return self.process.pid

    def start(self, port: int | None = None) -> Daemon:
        """Launch on `port` (a free one when None) and return once it accepts connections."""
        if shutil.which(self.binary) is None:
            raise UserError(f"{self.binary} is not installed (Debian: apt-get install {self.binary})")
        for attempt in range(3):
            if self._launch(port or free_port()):
                return self
            # Another process took the free port between our probe and the
            # server's bind: try a new one. A port the caller chose is final.
            if port or attempt == 2:
                raise UserError(f"{self.binary} could not start: {self._log_tail()}")
        raise AssertionError("unreachable")

    def _launch(self, port: int) -> bool:
        self._dir = tempfile.TemporaryDirectory(prefix=f"logstorm-{self.binary}-")
        self.folder = Path(self._dir.name)
        self.log_path = self.folder / "server.log"
        self.port = port
        with open(self.log_path, "wb") as log:
            # Its own session: a terminal's Ctrl-C must not reach it before the run's drain.
            self.process = subprocess.Popen(self.command(port, self.folder), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.folder, preexec_fn=_die_with_parent,
                                            start_new_session=True)
        try:
            return self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                if time.monotonic() > deadline:
                    raise UserError(f"{self.binary} did not answer on 127.0.0.1:{self.port} within "
                                    f"{READY_TIMEOUT:g} s") from None
                time.sleep(0.02)
        return False

    def _log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines() if self.log_path.exists() else []
        return lines[-1] if lines else f"it exited with status {self.process.returncode}"

    def stop(self) -> None:
        """SIGTERM by our own child's PID (SIGKILL if it does not end in time),
        then its folder goes. A server a test killed or stopped is handled too."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill() if _stopped(self.process.pid) else self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Daemon:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP): SIGTERM would wait until it is resumed."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except OSError:
        return False
