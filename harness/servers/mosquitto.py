"""Mosquitto, the MQTT broker from Debian's package, on a free 127.0.0.1 port
with its configuration, pid file and log in a temporary folder; nothing
persisted. Starts in about 0.1 s.

    with Mosquitto() as broker:
        run_against(broker.host, broker.port)
    with Mosquitto(users={"ann": secret}) as broker:     # those users only, no anonymous clients
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
    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = dict(users or {})
        self.process: subprocess.Popen | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.log_path: Path | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    def __repr__(self) -> str:  # the users' passwords stay out of any report
        return f"Mosquitto({self.host}:{self.port or 'not started'}, users={sorted(self.users)})"

    @property
    def pid(self) -> int:
        assert self.process is not None, "mosquitto not started"
        return self.process.pid

    def start(self) -> Mosquitto:
        self._dir = tempfile.TemporaryDirectory(prefix="logstorm-mosquitto-")
        folder = Path(self._dir.name)
        self.port = free_port()
        config = folder / "mosquitto.conf"
        config.write_text(CONFIG.format(port=self.port, user=getpass.getuser(), folder=folder) + self._access(folder))
        self.log_path = folder / "mosquitto.log"
        try:
            self.process = launch([binary(), "-c", str(config)], self.log_path, cwd=folder)
            wait_listening(self.process, self.port, READY_TIMEOUT, "mosquitto", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _access(self, folder: Path) -> str:
        """Anonymous clients, or only `users`: their passwords are hashed in
        place by mosquitto_passwd -U (never on a command line)."""
        if not self.users:
            return "allow_anonymous true\n"
        passwords = folder / "passwords"
        passwords.touch(mode=0o600)
        passwords.write_text("".join(f"{user}:{password}\n" for user, password in self.users.items()))
        done = subprocess.run(["mosquitto_passwd", "-U", str(passwords)], capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            raise UserError(f"mosquitto_passwd could not hash the passwords: {done.stderr.strip() or done.returncode}")
        return f"allow_anonymous false\npassword_file {passwords}\n"

    def stop(self) -> None:
        stop(self.process)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Mosquitto:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
