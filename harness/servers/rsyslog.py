"""rsyslog from Debian, run as our own process from a config of our own:
inputs on free 127.0.0.1 ports, the messages to a file in its folder and,
if asked, to Kafka (omkafka).

    with Rsyslog(tls=(ca, cert, key), kafka=("127.0.0.1:9092", "topic")).start() as server:
        send_to(server.tcp_port)           # also .udp_port, .tls_port
        server.output                      # the file omfile writes, one message a line

`rsyslogd -f CONF -i PIDFILE -n` runs in the foreground in its own session
and is stopped by its PID. Debian's librdkafka is too old for the embedded
broker ("Broker transport failure"): with Kafka, rsyslog runs with
LD_LIBRARY_PATH at the confluent-kafka wheel's librdkafka.
"""

from __future__ import annotations

import os
import shutil
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
# What omfile writes: the message as it arrived (header, structured data and
# all), one a line; a test's own template replaces it.
RAW = "%rawmsg%\\n"
KAFKA_TEMPLATE = "%rawmsg%"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wheel_librdkafka(folder: Path) -> Path:
    """A folder holding the confluent-kafka wheel's librdkafka as librdkafka.so.1."""
    import confluent_kafka

    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka-*.so.1"))
    if not found:
        raise UserError(f"no librdkafka bundled with confluent-kafka in {libs}")
    folder.mkdir(exist_ok=True)
    link = folder / "librdkafka.so.1"
    if not link.exists():
        link.symlink_to(found[0])
    return folder


class Rsyslog:
    def __init__(self, *, udp: bool = False, tls: tuple[Path, Path, Path] | None = None,
                 kafka: tuple[str, str] | None = None, template: str = RAW) -> None:
        """`tls`: (CA, certificate, key) PEM files for a TLS input; `kafka`:
        (bootstrap, topic) for omkafka; `template`: what omfile writes of
        each message (rsyslog template syntax)."""
        self.udp, self.tls, self.kafka, self.template = udp, tls, kafka, template
        self.process: subprocess.Popen | None = None
        self._dir: tempfile.TemporaryDirectory | None = None
        self.tcp_port = free_port()
        self.udp_port = free_udp_port() if udp else 0
        self.tls_port = free_port() if tls else 0

    @property
    def folder(self) -> Path:
        assert self._dir is not None, "start() first"
        return Path(self._dir.name)

    @property
    def output(self) -> Path:
        return self.folder / "out.log"

    def config(self) -> str:
        lines = [f'global(workDirectory="{self.folder}" maxMessageSize="64k")',
                 'module(load="imtcp" maxSessions="1000")',
                 f'template(name="out" type="string" string="{self.template}")',
                 f'input(type="imtcp" address="127.0.0.1" port="{self.tcp_port}" ruleset="out")']
        if self.udp:
            lines += ['module(load="imudp")', f'input(type="imudp" address="127.0.0.1" port="{self.udp_port}" ruleset="out" '
                      'rcvbufSize="16m")']
        if self.tls:
            ca, cert, key = self.tls
            lines.insert(0, f'global(defaultNetstreamDriverCAFile="{ca}" defaultNetstreamDriverCertFile="{cert}" '
                            f'defaultNetstreamDriverKeyFile="{key}")')
            lines.append(f'input(type="imtcp" address="127.0.0.1" port="{self.tls_port}" ruleset="out" '
                         'streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")')
        actions = [f'action(type="omfile" file="{self.output}" template="out")']
        if self.kafka:
            bootstrap, topic = self.kafka
            lines += ['module(load="omkafka")', f'template(name="kafka" type="string" string="{KAFKA_TEMPLATE}")']
            actions.append(f'action(type="omkafka" broker=["{bootstrap}"] topic="{topic}" template="kafka")')
        lines.append('ruleset(name="out") {\n  ' + "\n  ".join(actions) + "\n}")
        return "\n".join(lines) + "\n"

    def start(self) -> "Rsyslog":
        binary = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None)
        if binary is None:
            raise UserError("rsyslogd is not installed (apt-get install -y rsyslog rsyslog-kafka rsyslog-gnutls)")
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="logstorm-rsyslog-")
        (self.folder / "rsyslog.conf").write_text(self.config())
        env = dict(os.environ)
        if self.kafka:
            env["LD_LIBRARY_PATH"] = str(wheel_librdkafka(self.folder / "lib"))
        log = open(self.folder / "rsyslogd.log", "ab")
        self.process = subprocess.Popen(
            [binary, "-f", str(self.folder / "rsyslog.conf"), "-i", str(self.folder / "rsyslogd.pid"), "-n"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=_die_with_parent)
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Until every TCP input accepts a connection (UDP's is bound by then too)."""
        deadline = time.monotonic() + READY_TIMEOUT
        for port in filter(None, (self.tcp_port, self.tls_port)):
            while True:
                if self.process.poll() is not None:
                    raise UserError(f"rsyslogd exited with status {self.process.returncode}: {self.log_tail()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise UserError(f"rsyslogd did not listen on 127.0.0.1:{port} within {READY_TIMEOUT:.0f} s")
                    time.sleep(READY_SLICE)

    def log_tail(self) -> str:
        path = self.folder / "rsyslogd.log"
        text = path.read_text(errors="replace").strip() if path.exists() else ""
        return " | ".join(text.splitlines()[-3:]) or "no output"

    def kill(self) -> None:
        """SIGKILL, as a crash would: its queue in memory is lost."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM (rsyslog writes out its queue), SIGKILL if it lingers."""
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

    def __enter__(self) -> "Rsyslog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
