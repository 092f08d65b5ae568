"""Run the embedded Kafka-compatible broker (Tansu) in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Sequence

from harness.options import number

MEMORY_NOTE = ("It uses the memory storage engine: it keeps every message in memory until it stops "
               "(about 220 MB per million 216-byte lines, less with compression) and nothing on disk.")


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    parser.epilog = MEMORY_NOTE
    parser.add_argument("--port", type=number(int, 0, 65535), default=9092,
                        help="port to listen on, on 127.0.0.1 (default 9092; 0 picks a free one)")


def run(args: argparse.Namespace) -> int:
    from harness.servers.kafka import EmbeddedBroker

    # SIGTERM ends it like Ctrl-C, so `kill PID` stops the broker too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    broker = EmbeddedBroker()
    try:
        broker.start(args.port)
        print(f"Kafka broker ({broker.version or 'tansu'}, memory engine) listening on {broker.bootstrap}; "
              "Ctrl-C stops it", file=sys.stderr, flush=True)
        print(broker.bootstrap, flush=True)
        status = broker.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()
    print(f"logstorm broker: error: the broker exited by itself with status {status}", file=sys.stderr)
    return 1
