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
from pathlib import Path

from harness.errors import UserError
from harness.servers.kafka import free_port, wheel_librdkafka
from harness.servers.shipper import Shipper, free_udp_port
# What omfile writes: the message as it arrived (header, structured data and
# all), one a line; a test's own template replaces it.
RAW = "%rawmsg%\\n"
KAFKA_TEMPLATE = "%rawmsg%"


class Rsyslog(Shipper):
    name = "rsyslogd"

    def __init__(self, *, udp: bool = False, tls: tuple[Path, Path, Path] | None = None,
                 kafka: tuple[str, str] | None = None, template: str = RAW) -> None:
        """`tls`: (CA, certificate, key) PEM files for a TLS input; `kafka`:
        (bootstrap, topic) for omkafka; `template`: what omfile writes of
        each message (rsyslog template syntax)."""
        super().__init__()
        self.udp, self.tls, self.kafka, self.template = udp, tls, kafka, template
        self.udp_port = free_udp_port() if udp else 0
        self.tls_port = free_port() if tls else 0

    def listening(self) -> tuple[int, ...]:
        return tuple(filter(None, (self.tcp_port, self.tls_port)))  # UDP's input is bound by then too

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

    def argv(self) -> list[str]:
        binary = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None)
        if binary is None:
            raise UserError("rsyslogd is not installed (apt-get install -y rsyslog rsyslog-kafka rsyslog-gnutls)")
        return [binary, "-f", str(self.folder / "shipper.conf"), "-i", str(self.folder / "rsyslogd.pid"), "-n"]

    def env(self) -> dict[str, str]:
        env = super().env()
        if self.kafka:
            env["LD_LIBRARY_PATH"] = str(wheel_librdkafka(self.folder / "lib"))
        return env
