"""The Kafka sink's options: its flags, their checks, and the librdkafka
settings they become (for the producer, and for any client that reaches the
same cluster: the checks before a run, --verify and --e2e consumers)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.options import number

EMBEDDED = "embedded"
APACHE = "apache"  # Apache Kafka in KRaft mode, from the jars `logstorm broker --kind apache --fetch` cached
LOCAL = (EMBEDDED, APACHE)  # the brokers a run starts for itself
COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")
ACKS = ("all", "-1", "0", "1")
TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")
# Throughput and start-up defaults; any -e overrides them. A deep local queue (librdkafka
# holds 100,000 messages by default) rides out broker pauses; a short linger
# measured faster on the embedded broker than a long one (20 ms: about a
# third fewer msg/s than 1-5 ms), since full batches leave by size anyway.
# reconnect.backoff.ms also spaces librdkafka's first connections: once the
# bootstrap address has named the broker, the connection to it waited half
# the backoff (50 ms by librdkafka's default) in one start of two, on the
# path of every run's start; 20 ms makes that wait 11 ms (backoffs after a
# failure still grow to reconnect.backoff.max.ms, 10 s).
THROUGHPUT_DEFAULTS = {
    "reconnect.backoff.ms": "20",
    "linger.ms": "2",
    "batch.size": "1048576",
    "batch.num.messages": "100000",
    "queue.buffering.max.messages": "500000",
    "queue.buffering.max.kbytes": "262144",
}


@dataclass(frozen=True)
class Options:
    brokers: tuple[str, ...] = (EMBEDDED,)
    topic: str = "logstorm"
    config: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # -e pairs may hold secrets too
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    partitions: int | None = None
    acks: str = "all"
    compression: str = "lz4"
    key: str = "none"  # none, random, ip, field:N
    delivery_timeout: float = 30.0
    verify: bool = False
    e2e: bool = False
    embedded: bool = False  # brokers holds the address of the broker the supervisor started

    @property
    def bootstrap(self) -> str:
        return ",".join(self.brokers)

    @property
    def protocol(self) -> str:
        """security.protocol as the user's -e set it ("" when left to us)."""
        return dict(self.config).get("security.protocol", "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", action="append", default=None, metavar="HOST:PORT",
                       help="bootstrap broker; repeatable, comma lists too. 'embedded' (the default) starts a "
                            "Tansu broker on a free 127.0.0.1 port for the run; it keeps every message in memory "
                            "(about 220 MB per million 216-byte lines). 'apache' starts Apache Kafka there instead "
                            "(on disk; Java 17 and `logstorm broker --kind apache --fetch` first)")
    parser.add_argument("--topic", default="logstorm", help="topic to produce to (default logstorm)")
    parser.add_argument("-e", "--config", action="append", default=[], metavar="KEY=VALUE",
                       help="librdkafka producer setting, passed untouched and overriding logstorm's; repeatable")
    parser.add_argument("--sasl-username", default=os.environ.get("SASL_USERNAME"),
                       help="SASL user name (default: $SASL_USERNAME)")
    parser.add_argument("--sasl-password", default=os.environ.get("SASL_PASSWORD"),
                       help="SASL password (default: $SASL_PASSWORD); never printed")
    parser.add_argument("--partitions", type=number(int, 1, 100_000), default=None, metavar="N",
                       help="create the topic with N partitions if it does not exist")
    parser.add_argument("--acks", default="all", choices=ACKS, help="acknowledgements the broker waits for (default all)")
    parser.add_argument("--compression", default="lz4", choices=COMPRESSIONS,
                        help="compression codec (default lz4: on the embedded broker it saves about half the "
                             "broker's CPU and three quarters of its memory; none sends raw lines)")
    parser.add_argument("--key", default="none", metavar="none|random|ip|field:N",
                       help="message key: none (default), random, ip (the line's first IPv4 address) "
                            "or field:N (its Nth whitespace-separated field, from 1)")
    parser.add_argument("--delivery-timeout", type=number(float, 0, low_open=True), default=30.0, metavar="SECONDS",
                       help="give up on a message not delivered within this time (default 30)")
    parser.add_argument("--verify", action="store_true",
                       help="after the run, consume the topic and check every delivered line arrived exactly once")
    parser.add_argument("--e2e", action="store_true",
                       help="measure end-to-end latency with a consumer reading while the run produces")


def options(args: argparse.Namespace) -> Options:
    brokers = tuple(b.strip() for value in (args.broker or [EMBEDDED]) for b in value.split(",") if b.strip())
    if not brokers:
        raise UserError("--broker is empty")
    local = [broker for broker in brokers if broker in LOCAL]
    if local and len(brokers) > 1:
        raise UserError(f"--broker {local[0]} cannot be combined with other brokers")
    for broker in brokers:
        check_broker(broker)
    check_topic(args.topic)
    return Options(brokers=brokers, topic=args.topic, config=tuple(split_setting(s) for s in args.config),
                   sasl_username=args.sasl_username or None, sasl_password=args.sasl_password or None,
                   partitions=args.partitions, acks=args.acks, compression=args.compression,
                   key=parse_key(args.key), delivery_timeout=args.delivery_timeout, verify=args.verify, e2e=args.e2e)


def check_broker(broker: str) -> None:
    """HOST:PORT ([v6]:PORT too), or `embedded`. librdkafka would take a bad
    one and retry it for the whole run."""
    if broker in LOCAL:
        return
    host, colon, port = broker.rpartition(":")
    if not colon or not host.strip("[]") or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UserError(f"--broker {broker!r}: expected HOST:PORT with a port from 1 to 65535")


def check_topic(topic: str) -> None:
    """Kafka's own rule, checked before a broker refuses the topic mid-run."""
    if not topic.strip():
        raise UserError("--topic is empty")
    if not TOPIC.fullmatch(topic) or topic in (".", ".."):
        raise UserError(f"--topic {topic!r}: a Kafka topic is 1 to 249 characters of a-z A-Z 0-9 . _ -, "
                        "and not . or ..")


def split_setting(text: str) -> tuple[str, str]:
    """`-e key=value`, split at the first '=' so values may hold '='."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"-e {text.split('=')[0]!r}: expected KEY=VALUE")
    return key.strip(), value


def parse_key(text: str) -> str:
    if text in ("none", "random", "ip"):
        return text
    if text.startswith("field:") and text[6:].isdigit() and int(text[6:]) >= 1:
        return text
    raise UserError(f"--key {text!r}: expected none, random, ip or field:N with N >= 1")


def needs_embedded(options: Options) -> bool:
    """True when the supervisor must start a broker for this run (embedded or apache)."""
    return len(options.brokers) == 1 and options.brokers[0] in LOCAL


def with_bootstrap(options: Options, bootstrap: str) -> Options:
    """The options pointed at the embedded broker the supervisor started."""
    return dataclasses.replace(options, brokers=(bootstrap,), embedded=True)


def client_config(options: Options) -> dict[str, str]:
    """What any client (producer, admin, consumer) needs to reach the cluster:
    the bootstrap address, SASL credentials and the user's -e settings."""
    if needs_embedded(options):
        raise ValueError("start the embedded broker and call with_bootstrap() first")
    config = {"bootstrap.servers": options.bootstrap}
    if options.sasl_username and (speaks_sasl(options) or not options.embedded):
        config |= {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                   "sasl.username": options.sasl_username, "sasl.password": options.sasl_password or ""}
    return config | dict(options.config)


def speaks_sasl(options: Options) -> bool:
    """The user's -e security.protocol asks for SASL. Without it, credentials
    left in the shell (SASL_*) stay away from the embedded broker, which has
    no authentication, so they do not break the default run."""
    return options.protocol.upper().startswith("SASL")


def producer_config(options: Options) -> dict[str, object]:
    """The producer's librdkafka settings: ours first, the user's -e last."""
    timeout_ms = str(max(1, round(options.delivery_timeout * 1000)))
    ours = THROUGHPUT_DEFAULTS | {
        "acks": options.acks,
        "compression.type": options.compression,
        "message.timeout.ms": timeout_ms,  # the same setting as delivery.timeout.ms
        "delivery.report.only.error": "true",
    }
    config = ours | client_config(options)
    # confluent-kafka takes this one setting only as a Python bool (librdkafka reads "true"/"false").
    config["delivery.report.only.error"] = str(config["delivery.report.only.error"]).lower() in ("true", "1")
    return config
