"""Apache Kafka, the reference broker: a single node in KRaft mode (broker
and controller in one JVM with a 1 GB heap) on free 127.0.0.1 ports, its
storage formatted in a temporary folder that goes when it stops.

    fetch()                                   # once: Maven copies the jars into the cache
    with ApacheKafka() as broker:             # PLAINTEXT on broker.bootstrap
        run_against(broker.bootstrap)
    with ApacheKafka(users={"ann": secret}) as broker:   # and SASL_SSL (PLAIN, SCRAM-SHA-512)
        run_against(broker.sasl_bootstrap, ca=broker.ca_pem)

The jars come from Maven Central with `mvn dependency:copy-dependencies`
into ~/.cache/logstorm/kafka-VERSION/libs (or $XDG_CACHE_HOME), once. Unlike
the embedded broker it keeps messages on disk, with retention, so a long
soak stays bounded: its memory is the heap plus the page cache the kernel
may take back.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from harness.errors import UserError
from harness.servers.kafka import Exited, ThrownAway, _die_with_parent, free_port
from harness.servers.selfsigned import make_certificates

VERSION = "4.4.0"
ARTIFACTS = [("org.apache.kafka", name, VERSION) for name in ("kafka_2.13", "kafka-server", "kafka-storage",
                                                             "kafka-tools")]
# Kafka logs through SLF4J; without a binding its errors (a port in use...) go nowhere.
ARTIFACTS.append(("org.apache.logging.log4j", "log4j-slf4j-impl", "2.25.5"))
FETCH_HINT = "run `logstorm broker --kind apache --fetch`"
READY_TIMEOUT = 120.0  # two JVM starts (format, then the server): about 6 s idle, 30-50 s on a 2-core machine at load 15
MECHANISMS = ("PLAIN", "SCRAM-SHA-512")
# The heap and GC of kafka-server-start.sh; direct buffers bounded too, so resident memory stays well under 2 GB.
JVM_FLAGS = ("-Xms1g", "-Xmx1g", "-XX:MaxDirectMemorySize=256m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
             "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
             "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true")
TOOL_FLAGS = ("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")
# Disk bounds: 256 MB segments, each partition trimmed past 16 GB or 2 hours. A 10-minute
# soak at 100,000 lines/s (about 4 GB with lz4) stays whole, so --verify can read it all back.
SERVER_SETTINGS = {
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.segment.bytes": str(256 << 20),
    "log.retention.bytes": str(16 << 30),
    "log.retention.ms": str(2 * 3600 * 1000),
    "log.retention.check.interval.ms": "60000",
}
LOG_CONFIG = """\
rootLogger.level=WARN
rootLogger.appenderRef.out.ref=out
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
"""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "logstorm" / f"kafka-{VERSION}"


def jars_dir() -> Path:
    return cache_dir() / "libs"


def fetched() -> bool:
    return (cache_dir() / "complete").exists()


def fetch() -> Path:
    """Copy the jars from Maven Central into the cache (once; a later call
    only checks). A fetch cut short leaves no `complete` mark and starts over."""
    if fetched():
        return jars_dir()
    if shutil.which("mvn") is None:
        raise UserError("Maven (mvn) is not installed (apt-get install -y maven): it fetches Apache Kafka's jars")
    java()
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers may fetch at once: the second finds it done
        if not fetched():
            _copy_jars()
    return jars_dir()


def _copy_jars() -> None:
    shutil.rmtree(jars_dir(), ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="logstorm-maven-") as folder:
        (Path(folder) / "pom.xml").write_text(_pom())
        done = subprocess.run(["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime",
                               f"-DoutputDirectory={jars_dir()}"], cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        errors = [line for line in done.stdout.splitlines() if "ERROR" in line] or [f"status {done.returncode}"]
        raise UserError(f"Maven could not fetch Apache Kafka {VERSION}: {errors[0].strip()}")
    (cache_dir() / "complete").write_text(VERSION + "\n")


def _pom() -> str:
    dependencies = "".join(f"<dependency><groupId>{group}</groupId><artifactId>{name}</artifactId>"
                           f"<version>{version}</version></dependency>" for group, name, version in ARTIFACTS)
    return ('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>logstorm</groupId><artifactId>apache-kafka</artifactId><version>1</version>"
            f"<packaging>pom</packaging><dependencies>{dependencies}</dependencies></project>")


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise UserError("Java is not installed (apt-get install -y openjdk-17-jre-headless): "
                        "Apache Kafka needs Java 17")
    return found


def missing() -> str:
    """What keeps Apache Kafka from running here that fetch() cannot cure
    ("" when nothing does): a test's reason to skip."""
    try:
        java()
    except UserError as error:
        return str(error)
    if not fetched() and shutil.which("mvn") is None:
        return f"Apache Kafka's jars are not in {jars_dir()} and Maven (mvn) is not installed to fetch them"
    return ""


def java_command(main_class: str, *args: str, log_config: Path, flags: tuple[str, ...] = TOOL_FLAGS) -> list[str]:
    """`java -cp JARS MAIN ARGS`, or a UserError naming what is missing."""
    binary = java()
    if not fetched():
        raise UserError(f"Apache Kafka {VERSION}'s jars are not in {jars_dir()}: {FETCH_HINT}")
    return [binary, *flags, f"-Dlog4j2.configurationFile={log_config}", "-cp", f"{jars_dir()}/*", main_class, *args]


class ApacheKafka(ThrownAway):
    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = dict(users or {})  # SASL user -> password: a SASL_SSL listener when given
        self.process: subprocess.Popen | None = None
        self.bootstrap = ""
        self.sasl_bootstrap = ""
        self.ca_pem: Path | None = None
        self.version = f"Apache Kafka {VERSION}"
        self.log_path: Path | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    def __repr__(self) -> str:  # the users' passwords stay out of any report
        return f"ApacheKafka({self.bootstrap or 'not started'}, users={sorted(self.users)})"

    @property
    def pid(self) -> int:
        assert self.process is not None, "broker not started"
        return self.process.pid

    def start(self, port: int | None = None) -> ApacheKafka:
        """Format storage, launch with PLAINTEXT on `port` (a free one when
        None), and return once the broker answers metadata."""
        for attempt in range(3):
            try:
                return self._launch(port or free_port())
            except Exited as exited:
                # Another process took one of our free ports before the JVM bound it: new ports.
                # A port the user chose is final.
                if port or attempt == 2 or "Address already in use" not in str(exited):
                    raise UserError(f"Apache Kafka could not start: {exited}") from None
        raise AssertionError("unreachable")

    def _launch(self, port: int) -> ApacheKafka:
        self._dir = tempfile.TemporaryDirectory(prefix="logstorm-apache-kafka-")
        folder = Path(self._dir.name)
        self.log_path = folder / "kafka.log"
        (folder / "log4j2.properties").write_text(LOG_CONFIG)
        config = folder / "server.properties"
        config.write_text(self._server_properties(folder, port))
        config.chmod(0o600)  # it holds the SASL users' passwords
        try:
            self._format(folder, config)
            with open(self.log_path, "wb") as log:
                # Its own session: a terminal's Ctrl-C goes to the foreground
                # process group, and the broker must outlive logstorm's drain.
                self.process = subprocess.Popen(
                    java_command("kafka.Kafka", str(config), log_config=folder / "log4j2.properties", flags=JVM_FLAGS),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
                    preexec_fn=_die_with_parent, start_new_session=True)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _server_properties(self, folder: Path, port: int) -> str:
        controller = free_port()
        self.bootstrap = f"127.0.0.1:{port}"
        listeners = {"PLAINTEXT": port}
        settings = dict(SERVER_SETTINGS)
        if self.users:
            self.sasl_bootstrap = f"127.0.0.1:{(sasl := free_port())}"
            listeners["SASL_SSL"] = sasl
            self.ca_pem, server_pem = make_certificates(folder)
            settings |= self._sasl_settings(server_pem)
        advertised = ",".join(f"{name}://127.0.0.1:{p}" for name, p in listeners.items())
        settings |= {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller}",
            "listeners": f"{advertised},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": advertised,
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(folder / "data"),
        }
        return "".join(f"{key}={_escape(value)}\n" for key, value in settings.items())

    def _sasl_settings(self, server_pem: Path) -> dict[str, str]:
        plain_users = " ".join(f'user_{name}="{_jaas(password)}"' for name, password in self.users.items())
        return {
            "sasl.enabled.mechanisms": ",".join(MECHANISMS),
            "listener.name.sasl_ssl.plain.sasl.jaas.config":
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(server_pem),
        }

    def _format(self, folder: Path, config: Path) -> None:
        cluster = "-"
        while cluster.startswith("-"):  # the tool would read a leading "-" as a flag (Kafka's own ids avoid it too)
            cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        done = subprocess.run(java_command("kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(config),
                                           log_config=folder / "log4j2.properties"),
                              capture_output=True, text=True, timeout=READY_TIMEOUT, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            lines = (done.stderr + done.stdout).strip().splitlines() or [f"status {done.returncode}"]
            raise UserError(f"Apache Kafka's storage could not be formatted: {lines[-1]}")

    def _wait_ready(self) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise Exited(self._log_problem())
            try:
                if admin.list_topics(timeout=0.5).brokers:
                    return self._add_scram_users(admin)
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                raise UserError(f"Apache Kafka did not answer at {self.bootstrap} within {READY_TIMEOUT:g} s")
            time.sleep(0.2)

    def _add_scram_users(self, admin) -> None:
        """SCRAM-SHA-512 credentials, through the admin API rather than the
        format tool's --add-scram, which would show the passwords to `ps`."""
        from confluent_kafka.admin import ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion

        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
        upserts = [UserScramCredentialUpsertion(name, info, password.encode()) for name, password in self.users.items()]
        for future in admin.alter_user_scram_credentials(upserts).values() if upserts else ():
            future.result(READY_TIMEOUT)

    def _log_problem(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""
        if "Address already in use" in text:
            return "one of its ports was taken meanwhile (Address already in use)"
        lines = [line.strip() for line in text.splitlines() if "ERROR" in line or "Exception" in line]
        return lines[0] if lines else f"it exited with status {self.process.returncode}"


def _jaas(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _escape(value: str) -> str:
    """A value as java.util.Properties reads it back."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


__all__ = ["ApacheKafka", "VERSION", "cache_dir", "fetch", "fetched", "java_command", "missing"]
