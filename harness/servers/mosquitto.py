"""Mosquitto, the MQTT broker from Debian's package, on a free 127.0.0.1 port
with its configuration, pid file and log in a temporary folder; nothing
persisted. Starts in about 0.1 s.

    with Mosquitto() as broker:
        run_against(broker.host, broker.port)
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.errors import UserError
from harness.servers.local import free_port, launch, stop, wait_listening

BINARY = "/usr/sbin/mosquitto"
READY_TIMEOUT = 10.0
# Run as root, mosquitto switches to the `mosquitto` user and then cannot
# write in our folder: it stays the user who started it. The queue bound is
# lifted so that a subscriber reading back a fast run (--verify) is never
# dropped from (mosquitto's default holds 1,000 messages per client).
CONFIG = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
user {user}
pid_file {folder}/mosquitto.pid
log_dest stdout
max_queued_messages 0
"""


def binary() -> str:
    found = shutil.which("mosquitto") or (BINARY if Path(BINARY).exists() else None)
    if found is None:
        raise UserError("mosquitto is not installed (apt-get install -y mosquitto)")
    return found


class Mosquitto:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.log_path: Path | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "mosquitto not started"
        return self.process.pid

    def start(self) -> Mosquitto:
        self._dir = tempfile.TemporaryDirectory(prefix="logstorm-mosquitto-")
        folder = Path(self._dir.name)
        self.port = free_port()
        config = folder / "mosquitto.conf"
        config.write_text(CONFIG.format(port=self.port, user=getpass.getuser(), folder=folder))
        self.log_path = folder / "mosquitto.log"
        try:
            self.process = launch([binary(), "-c", str(config)], self.log_path, cwd=folder)
            wait_listening(self.process, self.port, READY_TIMEOUT, "mosquitto", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop(self.process)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Mosquitto:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
