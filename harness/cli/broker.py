"""Run a local Kafka broker in the foreground until Ctrl-C: the embedded
Kafka-compatible one (Tansu, the default) or Apache Kafka in KRaft mode."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
from typing import Sequence

from harness.errors import UserError
from harness.options import number

MEMORY_NOTE = ("The embedded broker keeps every message in memory until it stops (its memory storage engine: "
               "about 220 MB per million 216-byte lines, less with compression) and nothing on disk.")
APACHE_NOTE = ("Apache Kafka (--kind apache) keeps messages on disk in a temporary folder, removed when it stops; "
               "it needs Java 17 and its jars, fetched once with --fetch.")
EXAMPLES = """\
examples:
  logstorm broker                     # embedded, on 127.0.0.1:9092 until Ctrl-C
  logstorm broker --port 19092        # then: logstorm run smoke --broker 127.0.0.1:19092
  SASL_USERNAME=ann SASL_PASSWORD=... logstorm broker --kind apache --sasl
"""


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    # the help keeps line breaks as written
    parser.epilog = "\n\n".join([textwrap.fill(MEMORY_NOTE, 79), textwrap.fill(APACHE_NOTE, 79), EXAMPLES])
    parser.add_argument("--kind", choices=("embedded", "apache"), default="embedded",
                        help="embedded (Tansu, starts in milliseconds; the default) or apache (Apache Kafka "
                             "in KRaft mode, 1 GB heap, starts in seconds)")
    parser.add_argument("--port", type=number(int, 0, 65535), default=9092,
                        help="port to listen on, on 127.0.0.1 (default 9092; 0 picks a free one)")
    parser.add_argument("--fetch", action="store_true",
                        help="with --kind apache: fetch Apache Kafka's jars with Maven into the cache, then exit")
    parser.add_argument("--sasl", action="store_true",
                        help="with --kind apache: also listen in SASL_SSL (PLAIN and SCRAM-SHA-512) for "
                             "$SASL_USERNAME with $SASL_PASSWORD, behind a self-signed CA made for this broker")


def run(args: argparse.Namespace) -> int:
    if args.kind == "embedded" and (args.fetch or args.sasl):
        raise UserError(f"--{'fetch' if args.fetch else 'sasl'} needs --kind apache (the embedded broker has no jars "
                        "and no authentication)")
    if args.fetch:
        from harness.servers.apache_kafka import VERSION, fetch

        print(f"Apache Kafka {VERSION}'s jars are in {fetch()}", file=sys.stderr)
        return 0
    broker = _broker(args)
    # SIGTERM ends it like Ctrl-C, so `kill PID` stops the broker too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        broker.start(args.port)
        storage = "KRaft, on disk" if args.kind == "apache" else "memory engine"
        print(f"Kafka broker ({broker.version or 'tansu'}, {storage}) listening on {broker.bootstrap}; Ctrl-C stops it",
              file=sys.stderr, flush=True)
        print(broker.bootstrap, flush=True)
        if args.sasl:
            print(f"SASL_SSL (PLAIN, SCRAM-SHA-512) for {', '.join(broker.users)} on {broker.sasl_bootstrap}, "
                  f"CA certificate {broker.ca_pem}", file=sys.stderr, flush=True)
            print(broker.sasl_bootstrap, flush=True)
        status = broker.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()
    print(f"logstorm broker: error: the broker exited by itself with status {status}", file=sys.stderr)
    return 1


def _broker(args: argparse.Namespace):
    if args.kind == "embedded":
        from harness.servers.kafka import EmbeddedBroker

        return EmbeddedBroker()
    from harness.servers.apache_kafka import ApacheKafka

    if not args.sasl:
        return ApacheKafka()
    user, password = os.environ.get("SASL_USERNAME"), os.environ.get("SASL_PASSWORD")
    if not user or not password:
        raise UserError("--sasl takes the user from $SASL_USERNAME and the password from $SASL_PASSWORD: set both")
    return ApacheKafka(users={user: password})
