"""What the servers from Debian's packages (mosquitto, rabbitmq-server) share:
launched in a temporary folder in their own session, dying with whoever
started them, ready once their port accepts, stopped by their own PID."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from harness.errors import UserError
from harness.servers.kafka import _die_with_parent, free_port

STOP_GRACE = 10.0  # SIGTERM, then SIGKILL after this long

__all__ = ["free_port", "launch", "wait_listening", "stop"]


def launch(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None,
           stdin: int = subprocess.DEVNULL) -> subprocess.Popen:
    """Start `command` with its output in `log`. Its own session: a terminal's
    Ctrl-C goes to the foreground process group, and the server must outlive
    logstorm's drain."""
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=cwd, preexec_fn=_die_with_parent, start_new_session=True)


def wait_listening(process: subprocess.Popen, port: int, timeout: float, name: str, log: Path) -> None:
    """Return once 127.0.0.1:`port` accepts a connection; a UserError with the
    end of the server's log if it exits first or does not answer in time."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise UserError(f"{name} did not answer on 127.0.0.1:{port} within {timeout:g} s "
                                f"(its log: {log})") from None
            time.sleep(0.05)
    raise UserError(f"{name} exited with status {process.returncode}: {_last_line(log)}")


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM our own child by its PID; SIGKILL if it has not ended in STOP_GRACE."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
